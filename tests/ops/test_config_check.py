"""ops_config_check: the hygiene of the configuration, on the real files and on broken copies."""

import pytest
from django.core.management import call_command

from ops import config_check


def test_it_finds_the_configuration_clean(capsys):
    call_command("ops_config_check")

    assert "configuration is clean" in capsys.readouterr().out


def test_it_reads_the_variables_the_settings_read_and_the_example_documents(tmp_path):
    source = tmp_path / "settings.py"
    source.write_text('A = env.str("ALPHA_KEY", default="")\nB = required_secret("BETA_KEY", debug_default="x")\n')
    example = tmp_path / ".env.example"
    example.write_text("ALPHA_KEY=replace-me\n# GAMMA=1\n")

    assert config_check.declared(source) == {"ALPHA_KEY", "BETA_KEY"}
    assert config_check.declared(source) - config_check.documented(example) == {"BETA_KEY"}


@pytest.mark.parametrize("name", ["EVENTS_HASH_KEY", "NOTIFICATIONS_ADDRESS_KEY", "STORAGE_URL_KEYS", "SECRET_KEY"])
def test_production_refuses_to_start_without_each_pseudonym_key(name):
    environment, added = config_check.production_environment()

    assert added == []
    assert name not in config_check.secret_defaults(environment)
    with pytest.raises(config_check.ImproperlyConfigured, match=name):
        config_check._load({key: value for key, value in environment.items() if key != name})
