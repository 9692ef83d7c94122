"""The "hello world" ceiling: the smallest Flask app, served by the same gunicorn.conf.py.

``gunicorn -c gunicorn.conf.py bench.hello:app``: the same worker class, workers, threads and
timeouts as Civic, so the difference between this and a Civic page is Civic's own work.
"""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"


@app.route("/healthz")
def healthz():
    return "ok"
