"""The sidebar: one group per area, each listing the registered models the role may view."""

from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from backoffice import selectors

# Area -> the app labels whose admin pages it lists, in this order.
AREAS = (
    (_("Moderation"), "gavel", ("moderation",)),
    (_("Community"), "forum", ("community", "waffle")),  # waffle: the feature switches (samia/features)
    (_("Notifications"), "campaign", ("notifications",)),
    (_("Analytics"), "monitoring", ("analytics",)),
    (_("Marketplace"), "storefront", ("marketplace",)),
    (_("AR"), "view_in_ar", ("ar",)),
    (_("Personalization"), "recommend", ("personalization",)),
    (_("Translations"), "translate", ("i18n",)),
    (_("Accounts"), "group", ("accounts",)),
    (_("Audit"), "verified_user", ("audit",)),
    (_("Jobs"), "schedule", ("django_celery_beat",)),
)


def _viewable(model_admin):
    return lambda request: model_admin.has_view_permission(request)


def _items(site, app_labels: tuple[str, ...]) -> list[dict]:
    found = [
        (model, model_admin) for model, model_admin in site._registry.items() if model._meta.app_label in app_labels
    ]
    found.sort(key=lambda pair: (app_labels.index(pair[0]._meta.app_label), str(pair[0]._meta.verbose_name_plural)))
    return [
        {
            "title": capfirst(model._meta.verbose_name_plural),
            "link": reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist"),
            "permission": _viewable(model_admin),
        }
        for model, model_admin in found
    ]


def areas(site) -> list[tuple]:
    """Return AREAS, then an area for each app with admin pages that AREAS does not name (its verbose name)."""
    named = {label for _title, _icon, labels in AREAS for label in labels}
    unnamed = sorted({model._meta.app_label for model in site._registry} - named)
    return [*AREAS, *((apps.get_app_config(label).verbose_name, "folder", (label,)) for label in unnamed)]


def sidebar(request) -> list[dict]:
    """Return unfold's sidebar navigation: the dashboard, then each area's models the role may view."""
    site = admin.site
    groups = [
        {
            "title": "",
            "items": [
                {"title": _("Dashboard"), "icon": "dashboard", "link": reverse(f"{site.name}:index")},
                {"title": _("Two-factor sign-in"), "icon": "key", "link": reverse("two_factor:status")},
                {
                    "title": _("Staff two-factor resets"),
                    "icon": "lock_reset",
                    "link": reverse("two_factor:staff"),
                    "permission": lambda request: getattr(request.user, "role", None) == "superadmin",
                },
            ],
        }
    ]
    for title, icon, app_labels in areas(site):
        items = _items(site, app_labels)
        if app_labels == ("analytics",):
            items.insert(
                0,
                {
                    "title": _("KPIs (last 30 days)"),
                    "link": reverse(f"{site.name}:index") + "#kpis",
                    "permission": lambda request: bool(selectors.kpi_families(selectors.identity_of(request))),
                },
            )
        for item in items:
            item.setdefault("icon", icon)
        groups.append({"title": title, "items": items, "collapsible": False})
    return groups
