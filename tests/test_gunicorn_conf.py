"""gunicorn.conf.py: the production settings, read the way gunicorn reads them."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def load(monkeypatch, **env) -> Config:
    for name in ("TRUSTED_PROXY_COUNT", "FORWARDED_ALLOW_IPS", "WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(CONF))
    config = Config()
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_production_defaults(monkeypatch):
    config = load(monkeypatch)
    assert config.worker_class_str == "civic.core.worker.CivicThreadWorker"
    assert config.threads == 4
    assert config.preload_app is True
    assert config.accesslog is None  # no IP addresses or token-bearing paths in logs
    assert config.max_requests_jitter > 0
    assert config.graceful_timeout >= 30
    assert config.keepalive == 5
    assert config.control_socket_disable is True
    assert config.wsgi_app == "wsgi:app"


def test_without_a_trusted_proxy_gunicorn_believes_no_forwarded_headers(monkeypatch):
    assert load(monkeypatch).forwarded_allow_ips == []


def test_behind_a_trusted_proxy_gunicorn_believes_that_proxy_only(monkeypatch):
    config = load(monkeypatch, TRUSTED_PROXY_COUNT="1", FORWARDED_ALLOW_IPS="10.0.0.5")
    assert config.forwarded_allow_ips == ["10.0.0.5"]
    assert config.secure_scheme_headers == {"X-FORWARDED-PROTO": "https"}


@pytest.mark.parametrize(("env", "expected"), [({"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "2"}, (3, 2))])
def test_sizes_come_from_the_environment(monkeypatch, env, expected):
    config = load(monkeypatch, **env)
    assert (config.workers, config.threads) == expected
