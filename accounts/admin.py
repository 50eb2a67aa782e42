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

from accounts.models import EmailVerification, User
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
