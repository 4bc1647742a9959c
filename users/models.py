import time
import zoneinfo
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from .roles import Role

MEMO_SECONDS = 10


class ProcessMemo:
    """A few seconds' copy, in this process, of the rows every request reads and that rarely change
    (Business.current, crm's MessagingSettings.current): saves a cache round trip per read. A save
    forgets its own entry here; other processes see the change within `seconds`."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._entries: dict[str, tuple[float, object]] = {}

    def get(self, key: str):
        entry = self._entries.get(key)
        if entry and time.monotonic() - entry[0] < self.seconds:
            return entry[1]
        return None

    def put(self, key: str, value) -> None:
        self._entries[key] = (time.monotonic(), value)

    def forget(self, key: str | None = None) -> None:
        """One entry, or all of them (tests start each case with none)."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)


current_memo = ProcessMemo(MEMO_SECONDS)

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
        current_memo.forget("business")

    def delete(self, *args, **kwargs):
        cache.delete(self.CACHE_KEY)
        current_memo.forget("business")
        return super().delete(*args, **kwargs)

    @classmethod
    def current(cls) -> "Business":
        """The business: every request reads it and it changes rarely, so it is kept in this process for a
        few seconds and in the shared cache for five minutes (a save clears the shared copy)."""
        memo = current_memo.get("business")
        if memo is not None:
            return memo
        business = cls._current_shared()
        if business.pk:
            current_memo.put("business", business)
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
