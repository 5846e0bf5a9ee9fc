from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "samia.accounts"
    label = "accounts"
    verbose_name = "Accounts"
