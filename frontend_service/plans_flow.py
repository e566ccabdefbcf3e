"""Plans, the admins' use cases: store a plan (its clip lengths and renders a day) and
put an account on one, or back on the free plan. No payment provider yet: an admin
decides. What a plan allows is enforced where it applies (admission: the daily quota;
SceneFlow: the clip lengths)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from frontend_service.flow import NotFound, Refusal
from infra.bootstrap import Adapters
from infra.domain.plan import FREE_PLAN, MAX_DAILY_RENDERS, Plan, free_plan
from infra.domain.presets import ClipSeconds
from infra.domain.user import User, is_account


class PlanTerms(BaseModel):
    """What a plan gives, as an admin sends it (the name is in the address)."""

    clip_seconds: list[ClipSeconds] = Field(min_length=1, max_length=3, description="15 and any of 30, 60")
    daily_renders: int = Field(strict=True, ge=1, le=MAX_DAILY_RENDERS)


class PlanChoice(BaseModel):
    plan: str | None = Field(default=None, max_length=40, description="a plan's name; none or 'free': the free plan")


class Unacceptable(Refusal):
    """A request an admin should change: the message says how."""


class PlanFlow:
    def __init__(self, adapters: Adapters):
        self._records = adapters.records
        self._settings = adapters.settings

    def free(self) -> Plan:
        return free_plan(self._settings.daily_render_quota)

    def plans(self) -> list[Plan]:
        """The free plan first, then the stored ones by name."""
        return [self.free(), *self._records.plans()]

    def accounts(self) -> list[User]:
        return self._records.users_on_plans()

    def save(self, name: str, terms: PlanTerms) -> Plan:
        """Stores a plan (raises ValidationError for a bad name or terms, storing nothing)."""
        if name == FREE_PLAN:
            raise Unacceptable(
                "the free plan comes from the site's settings (ANIMBOOKS_DAILY_RENDER_QUOTA); give this plan "
                "another name"
            )
        plan = Plan.model_validate({"name": name, **terms.model_dump()})
        self._records.save_plan(plan)
        return plan

    def assign(self, user_id: str, choice: PlanChoice) -> User:
        """Puts an account on a stored plan, or back on the free plan."""
        if not is_account(user_id):
            raise Unacceptable(
                "%(user)s is not an account: plans are for accounts (ids such as google:…, iap:…, local:…, telegram:…)",
                user=user_id,
            )
        name = None if choice.plan in (None, "", FREE_PLAN) else choice.plan
        if name is not None and self._records.get_plan(name) is None:
            names = ", ".join(plan.name for plan in self.plans())
            raise NotFound("there is no plan %(plan)s; the plans are %(plans)s", plan=name, plans=names)
        user = self._records.set_plan(user_id, name)
        if user is None:
            raise NotFound("no account %(user)s has used the site yet: it must sign in once first", user=user_id)
        return user
