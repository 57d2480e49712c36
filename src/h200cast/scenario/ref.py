"""Which scenario a run follows: one stance, a stance path, or a switching chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from h200cast.errors import InputError

RefKind = Literal["stance", "path", "switching"]
KINDS: tuple[RefKind, ...] = ("stance", "path", "switching")


@dataclass(frozen=True)
class ScenarioRef:
    """A stance held throughout, a stance path, or a switching chain, by name.

    It replaces the (stance, path, switching) triple of strings: exactly one is named.
    ``ScenarioRef.of(path="as_reported_2026_01")`` or ``ScenarioRef("path", "...")``.
    """

    kind: RefKind
    name: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"expected one of: {', '.join(KINDS)}", key="scenario kind", value=self.kind
            )
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"expected the name of a {self.kind}", key=self.kind, value=self.name)

    @classmethod
    def of(
        cls,
        stance: str | None = None,
        path: str | None = None,
        switching: str | None = None,
        *,
        default_stance: str | None = None,
    ) -> ScenarioRef:
        """The one of ``stance``, ``path`` and ``switching`` that is given (empty strings count as not given).

        With ``default_stance``, nothing given means that stance; otherwise exactly one
        must be given.
        """
        given = [(k, v) for k, v in zip(KINDS, (stance, path, switching), strict=True) if v]
        if not given and default_stance:
            return cls("stance", default_stance)
        if len(given) != 1:
            raise InputError(
                "give exactly one of a stance, a path or a switching chain",
                key="--stance/--path/--switching",
            )
        kind, name = given[0]
        return cls(kind, name)

    @property
    def stance(self) -> str | None:
        return self.name if self.kind == "stance" else None

    @property
    def path(self) -> str | None:
        return self.name if self.kind == "path" else None

    @property
    def switching(self) -> str | None:
        return self.name if self.kind == "switching" else None

    def kwargs(self) -> dict[str, str]:
        """``{kind: name}``, for functions that take ``stance=``, ``path=`` or ``switching=``."""
        return {self.kind: self.name}

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"
