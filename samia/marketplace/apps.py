from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "samia.marketplace"
    label = "marketplace"
    verbose_name = "Marketplace"
