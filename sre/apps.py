from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SreConfig(AppConfig):
    name = "sre"
    verbose_name = _("SRE and cost guards")

    def ready(self):
        # Spent budgets degrade features the kernel guards; the kernel does not import this app.
        from samia import degraded
        from samia.providers import gates
        from sre import budgets, tracing

        degraded.checker_register(budgets.degraded_reason)
        gates.register(budgets.send_gate)
        # Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
        tracing.tracing_start()
