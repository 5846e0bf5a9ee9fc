from django.urls import path

from samia.audit import apis

urlpatterns = [
    path("admin/audit", apis.AuditEntryListView.as_view(), name="audit-entry-list"),
    path("admin/audit/attest", apis.AuditAttestView.as_view(), name="audit-attest"),
    path("admin/audit/public-key", apis.AuditPublicKeyView.as_view(), name="audit-public-key"),
]
