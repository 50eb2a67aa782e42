from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("users", views.StaffUserViewSet, basename="user")

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/verify", views.VerifyView.as_view(), name="auth-verify"),
    path("auth/verify/resend", views.VerifyResendView.as_view(), name="auth-verify-resend"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout/everywhere", views.LogoutEverywhereView.as_view(), name="auth-logout-everywhere"),
    path("auth/password/forgot", views.PasswordForgotView.as_view(), name="auth-password-forgot"),
    path("auth/password/reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    # users/me and users/me/export (an account with what the workspaces keep about it) are
    # composed by workspaces (workspaces/api/urls.py).
    *router.urls,
]
