# Starlette (ASGI) on uvicorn behind Portico (docs/frameworks.md). uvicorn binds the port named in
# its arguments and, for a peer in --forwarded-allow-ips (127.0.0.1 by default), takes the scheme
# and client address from X-Forwarded-Proto/-For (--proxy-headers, on by default). The routes are
# mounted at the path base, since requests arrive with their full path.
import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route


async def whoami(request):
    return JSONResponse({"host": request.headers.get("host"), "scheme": request.url.scheme,
                         "client": request.client.host, "url": str(request.url)})


async def go(request):
    return RedirectResponse(request.url_for("whoami"), status_code=302)


async def require_portico_token(request, call_next):
    if request.headers.get("x-portico-token") != os.environ["PORTICO_TOKEN"]:
        return PlainTextResponse("missing or wrong X-Portico-Token\n", status_code=400)
    return await call_next(request)


routes = [Route("/whoami", whoami, name="whoami"), Route("/go", go)]
app = Starlette(routes=[Mount(os.environ.get("PORTICO_PATH_BASE", ""), routes=routes)],
                middleware=[Middleware(BaseHTTPMiddleware, dispatch=require_portico_token)])
