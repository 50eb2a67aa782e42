"""The admin index groups the models by task, with the libraries' tables folded away under Plumbing."""

import re

import pytest
from django.contrib import admin
from django.test import Client

from birthdaybuddy.admin_site import GROUPS, PLUMBING, BirthdayBuddyAdminSite
from tests.factories import UserFactory

TASK_GROUPS = ["Deliveries", "Tenants and people", "Events and reminders", "Schedules", "Accounts", "Plumbing"]


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


def _captions(html: str) -> list[str]:
    return re.findall(r'<caption>\s*(?:<span class="section">|<a [^>]*class="section"[^>]*>)([^<]+)<', html)


def test_the_site_is_ours():
    assert isinstance(admin.site, BirthdayBuddyAdminSite)
    assert admin.site.site_header == "BirthdayBuddy administration"


def test_the_index_lists_the_task_groups_in_order_with_plumbing_folded(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    main = html.split('id="content-main"', 1)[1]
    assert _captions(main) == TASK_GROUPS
    plumbing = main.split(f'<details class="bb-app-group-collapsed" id="app-group-{PLUMBING}">', 1)[1]
    plumbing = plumbing.split("</details>", 1)[0]
    for url in ("/admin/auth/group/", "/admin/token_blacklist/outstandingtoken/", "/admin/axes/accesslog/"):
        assert url in plumbing
    before_plumbing = main.split('id="app-group-plumbing"', 1)[0]
    for url in ("/admin/auth/group/", "/admin/token_blacklist/", "/admin/django_celery_beat/crontabschedule/"):
        assert url not in before_plumbing
    assert "/admin/notifications/notification/dashboard/" in before_plumbing.split("Tenants and people", 1)[0]


def test_every_registered_model_appears_exactly_once(admin_client):
    request = admin_client.get("/admin/").wsgi_request
    groups = admin.site.get_app_list(request)
    urls = [
        model["admin_url"]
        for group in groups
        for model in group["models"]
        if model["object_name"] != "DeliveryDashboard"
    ]
    assert len(urls) == len(set(urls)) == len(admin.site._registry)


def test_group_labels_name_registered_models():
    registered = {model._meta.label for model in admin.site._registry}
    named = {label for _, _, labels in GROUPS for label in labels}
    assert named - registered == set()


def test_an_apps_own_page_stays_djangos(admin_client):
    response = admin_client.get("/admin/workspaces/")
    assert response.status_code == 200
    assert _captions(response.content.decode().split('id="content-main"', 1)[1]) == ["Workspaces"]


def test_staff_see_only_groups_they_may_use(db):
    from django.contrib.auth.models import Permission

    user = UserFactory(email="support@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_person"))
    client = Client()
    client.force_login(user)
    html = client.get("/admin/").content.decode().split('id="content-main"', 1)[1]
    assert _captions(html) == ["Tenants and people"]
