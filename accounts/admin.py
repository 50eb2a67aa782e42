"""Admin for users and their email verifications.

Staff edit users here; the email is the login, so the forms are built around it rather
than Django's ``username``. Verification codes are only ever stored hashed and the hash is
never shown.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import ValidationError

from accounts.lifecycle import profile_changed_steps_run
from accounts.models import EmailVerification, TokenFamily, User
from accounts.tokens import user_tokens_revoke
from birthdaybuddy.validators import available_timezones


class TimezoneChoiceAdminMixin:
    """Shows ``timezone`` fields as a list of the IANA zones the service accepts."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "timezone":
            return forms.TypedChoiceField(
                choices=[(zone, zone) for zone in available_timezones()],
                initial=db_field.default,
                label=db_field.verbose_name.capitalize(),
                required=not db_field.blank,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class UserCreationForm(BaseUserCreationForm):
    """Email plus the password twice, checked by the configured password validators."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("A user with this email address already exists.", code="unique")
        return email


class UserChangeForm(DjangoUserChangeForm):
    """Django's change form (the password shown as a read-only hash with a link to change it)."""

    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError("A user with this email address already exists.", code="unique")
        return email


@admin.register(User)
class UserAdmin(TimezoneChoiceAdminMixin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    # Django's add template talks about a "username"; the plain one fits an email login.
    add_form_template = "admin/change_form.html"

    list_display = ("email", "full_name", "status", "is_staff", "is_active", "created_at")
    list_filter = ("status", "is_staff", "is_superuser", "is_active", "created_at")
    search_fields = ("email", "first_name", "last_name", "phone", "slack_user_id")
    ordering = ("email",)
    date_hierarchy = "created_at"
    readonly_fields = ("id", "last_login", "created_at", "updated_at")
    filter_horizontal = ("groups", "user_permissions")

    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "date_of_birth", "timezone", "phone", "slack_user_id")}),
        ("Status", {"fields": ("status", "is_active")}),
        (
            "Permissions",
            {"classes": ("collapse",), "fields": ("is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    @admin.display(description="Name", ordering="last_name")
    def full_name(self, user: User) -> str:
        return f"{user.first_name} {user.last_name}".strip()

    # Only superusers hand out rights or touch the accounts of those who have them: a staff
    # member with "change user" could otherwise make themself a superuser or lock one out.
    PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    @staticmethod
    def _protected_from(request, user: User | None) -> bool:
        return (
            user is not None
            and not request.user.is_superuser
            and user.pk != request.user.pk
            and (user.is_superuser or user.is_staff)
        )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return (*fields, *self.PRIVILEGE_FIELDS)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not self._protected_from(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not self._protected_from(request, obj)

    def save_model(self, request, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            # The same steps as the account services: the people linked to the user follow.
            profile_changed_steps_run(obj, set(form.changed_data))
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_tokens_revoke(user=obj)


@admin.register(EmailVerification)
class EmailVerificationAdmin(admin.ModelAdmin):
    """Read-only: codes are issued by the sign-up flow, and only their hash exists."""

    list_display = ("user", "created_at", "expires_at", "attempts", "used_at", "invalidated_at")
    list_filter = ("created_at", "used_at", "invalidated_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("user", "created_at", "expires_at", "attempts", "used_at", "invalidated_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    """Sign-ins (refresh-token chains): read-only, for seeing who is signed in and what was revoked."""

    list_display = ("user", "created_at", "rotated_at", "revoked_at", "revoked_reason")
    list_filter = ("revoked_reason", "created_at", "revoked_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("id", "user", "created_at", "rotated_at", "revoked_at", "revoked_reason")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
