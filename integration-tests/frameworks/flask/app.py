# Flask on gunicorn behind Portico (docs/frameworks.md). gunicorn binds the port named in its
# arguments, takes SCRIPT_NAME (the path base) from the environment and, for a peer in
# forwarded_allow_ips (127.0.0.1 by default), the scheme from X-Forwarded-Proto. ProxyFix adds the
# client address from X-Forwarded-For.
import os

from flask import Flask, abort, jsonify, redirect, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)


@app.before_request
def require_portico_token():
    if request.headers.get("X-Portico-Token") != os.environ["PORTICO_TOKEN"]:
        abort(400)


@app.get("/whoami")
def whoami():
    return jsonify(host=request.host, scheme=request.scheme, client=request.remote_addr,
                   url=request.url)


@app.get("/go")
def go():
    return redirect(url_for("whoami", _external=True))
