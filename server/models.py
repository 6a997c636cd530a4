"""Request and response bodies of the ``/v11`` API (pydantic: invalid input is a clear 422)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.studio import BrandVoice, Brief, Variant

Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
PropValue = Annotated[str, StringConstraints(max_length=64)] | bool | int | Finite | None

#: the most variants one brief may ask for (the studio's own limit is 10)
MAX_N = 5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateRequest(_Strict):
    brief: Brief
    n: int = Field(3, ge=1, le=MAX_N, description="How many variants to return, best first.")
    voice: BrandVoice | None = Field(None, description="A brand voice to follow (the server keeps none).")


class GenerateResponse(BaseModel):
    variants: list[Variant]
    cached: bool = Field(description="True when the answer came from the response cache.")
    model: str
    seconds: float


class BatchGenerateRequest(_Strict):
    items: list[GenerateRequest] = Field(min_length=1, description="Briefs to write, in order (bounded).")


class BatchItemError(BaseModel):
    code: str
    message: str


class BatchItemResult(BaseModel):
    index: int
    ok: bool
    variants: list[Variant] = Field(default_factory=list)
    cached: bool = False
    error: BatchItemError | None = None


class BatchGenerateResponse(BaseModel):
    results: list[BatchItemResult]
    model: str
    seconds: float


class Event(_Strict):
    """One usage event. Never text: properties are short scalars (counts, flags, categories, timings)."""

    event_id: Ident = Field(description="Unique per event; a re-sent event with the same id is ignored.")
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.\-]{0,63}$")]
    occurred_at: datetime = Field(description="When it happened (ISO-8601; a time zone is assumed UTC if missing).")
    client_id: Ident = Field(description="Anonymous id of the installation that sent it.")
    user_id: Ident | None = None
    latency_ms: float | None = Field(None, ge=0, le=86_400_000, allow_inf_nan=False)
    props: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)], PropValue] = Field(
        default_factory=dict, max_length=40
    )

    @field_validator("occurred_at")
    @classmethod
    def _sane_time(cls, value: datetime) -> datetime:
        try:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValueError("occurred_at is out of range") from None
        if not 2000 <= value.year <= 2100:
            raise ValueError("occurred_at must be between the years 2000 and 2100")
        return value


class EventsRequest(_Strict):
    events: list[Event] = Field(min_length=1)


class EventsResponse(BaseModel):
    accepted: int = Field(description="Events stored by this request.")
    duplicates: int = Field(description="Events already stored earlier (same event_id); ignored.")


class DayCount(BaseModel):
    day: str
    kind: str
    count: int


class LatencyGroup(BaseModel):
    client_id: str
    user_id: str | None
    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class SummaryResponse(BaseModel):
    since: str
    days: int
    total: int
    per_day: list[DayCount]
    latency: list[LatencyGroup]


class ComponentStatus(BaseModel):
    ok: bool
    detail: str


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    components: dict[str, ComponentStatus]


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str | None = None


class ErrorResponse(BaseModel):
    detail: ErrorBody | list[dict[str, Any]] | str
