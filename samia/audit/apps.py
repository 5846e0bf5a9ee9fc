from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "samia.audit"
    label = "audit"
    verbose_name = "Audit trail"
