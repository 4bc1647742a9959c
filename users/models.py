import time
import zoneinfo
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from .roles import Role

MEMO_SECONDS = 10
_current_memo: dict = {}

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz]


class User(AbstractUser):
    """A person who logs in. The role comes from the user's group (see users.roles)."""

    phone = PhoneNumberField(blank=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def role(self) -> str | None:
        if not self.is_active:
            return None
        names = {group.name for group in self.groups.all()}
        for role in Role:
            if role.value in names:
                return role.value
        return Role.OWNER.value if self.is_superuser else None

    def has_role(self, *roles: str) -> bool:
        return self.role is not None and self.role in roles


class Business(models.Model):
    """The company this installation runs. One row; `Business.current()` reads it."""

    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="America/Chicago")
    phone = PhoneNumberField(blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    service_area_zip_codes = models.JSONField(default=list, blank=True, help_text="ZIP codes served.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "business"

    def __str__(self) -> str:
        return self.name

    CACHE_KEY = "users.business.current"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)
        _current_memo.clear()

    def delete(self, *args, **kwargs):
        cache.delete(self.CACHE_KEY)
        _current_memo.clear()
        return super().delete(*args, **kwargs)

    @classmethod
    def current(cls) -> "Business":
        """The business: every request reads it and it changes rarely, so it is kept in this process for a
        few seconds and in the shared cache for five minutes (a save clears the shared copy)."""
        memo = _current_memo.get("business")
        if memo and time.monotonic() - memo[0] < MEMO_SECONDS:
            return memo[1]
        business = cls._current_shared()
        if business.pk:
            _current_memo["business"] = (time.monotonic(), business)
        return business

    @classmethod
    def _current_shared(cls) -> "Business":
        business = cache.get(cls.CACHE_KEY)
        if business is None:
            business = cls.objects.order_by("pk").first()
            if business is None:
                return cls(name="Your company")
            cache.set(cls.CACHE_KEY, business, 300)
        return business

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)
