import pytest

import config
from civic import create_app
from config import ConfigError, DevelopmentConfig, ProductionConfig, check_secret_key, config_for, normalise_database_url

STRONG = "x7Qm2vLr9TzK4pWn8YcB3hJs6DfG1aEu0RoI5kNt"


class TestSecretKey:
    @pytest.mark.parametrize("key", [None, "", "dev", "short-key", "a" * 64, "changeme" * 2])
    def test_weak_or_missing_keys_are_refused(self, key):
        with pytest.raises(ConfigError):
            check_secret_key(key)

    def test_strong_key_is_accepted(self):
        check_secret_key(STRONG)


class TestProduction:
    def test_refuses_to_start_without_secret_key(self, monkeypatch):
        monkeypatch.delenv("SECRET_KEY", raising=False)
        monkeypatch.setenv("DATABASE_URL", "sqlite://")
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app("production")

    def test_refuses_a_weak_secret_key(self, monkeypatch):
        monkeypatch.setenv("SECRET_KEY", "changeme")
        monkeypatch.setenv("DATABASE_URL", "sqlite://")
        with pytest.raises(ConfigError, match="too weak"):
            create_app("production")

    def test_refuses_to_fall_back_to_sqlite(self, monkeypatch):
        monkeypatch.setenv("SECRET_KEY", STRONG)
        monkeypatch.delenv("DATABASE_URL", raising=False)
        with pytest.raises(ConfigError, match="DATABASE_URL"):
            create_app("production")

    def test_secure_cookies_and_smtp(self, monkeypatch):
        monkeypatch.setenv("SECRET_KEY", STRONG)
        monkeypatch.setenv("DATABASE_URL", "sqlite://")
        app = create_app("production")
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
        assert app.config["MAIL_BACKEND"] == "smtp"
        assert app.config["DEMO_ACCOUNTS_ALLOWED"] is False
        assert app.debug is False

    def test_unset_environment_means_production(self, monkeypatch):
        monkeypatch.delenv("CIVIC_ENV", raising=False)
        assert isinstance(config_for(None), ProductionConfig)


class TestDevelopment:
    def test_generates_and_keeps_a_secret_in_instance(self, monkeypatch, tmp_path):
        monkeypatch.delenv("SECRET_KEY", raising=False)
        monkeypatch.setattr(config, "INSTANCE", tmp_path)
        first = DevelopmentConfig().SECRET_KEY
        second = DevelopmentConfig().SECRET_KEY
        assert first == second
        check_secret_key(first)
        assert (tmp_path / "secret_key").read_text().strip() == first
        assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


class TestEnvironment:
    def test_database_url_forms(self):
        assert normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
        assert normalise_database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
        assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"

    def test_bad_brand_colour_is_refused(self, monkeypatch):
        monkeypatch.setenv("BRAND_COLOUR", "red; background: url(x)")
        with pytest.raises(ConfigError, match="BRAND_COLOUR"):
            create_app("testing")

    def test_bad_integer_names_the_variable(self, monkeypatch):
        monkeypatch.setenv("MAIL_PORT", "twenty-five")
        with pytest.raises(ConfigError, match="MAIL_PORT"):
            config_for("testing")

    def test_unknown_environment_name(self):
        with pytest.raises(ConfigError, match="CIVIC_ENV"):
            config_for("staging")

    def test_env_values_are_read(self, monkeypatch):
        monkeypatch.setenv("COUNCIL_NAME", "Trafford Council")
        monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/3")
        monkeypatch.setenv("MAIL_USE_TLS", "true")
        cfg = config_for("development")
        assert cfg.COUNCIL_NAME == "Trafford Council"
        assert cfg.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/3"
        assert cfg.MAIL_USE_TLS is True
