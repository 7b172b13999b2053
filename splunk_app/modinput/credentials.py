"""An access key's secret from Splunk's credential store (storage/passwords), read with the
session key splunkd gives the input. Nothing secret is ever kept in inputs.conf."""
import json
import ssl
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import Request, urlopen


class CredentialError(Exception):
    pass


def _context(server_uri):
    """splunkd's management port usually has a self-signed certificate: it is trusted on the
    loopback interface (where splunkd runs the input), verified anywhere else."""
    host = (urlsplit(server_uri).hostname or "").lower()
    if host in ("127.0.0.1", "localhost", "::1"):
        return ssl._create_unverified_context()
    return ssl.create_default_context()


def secret_access_key(server_uri, session_key, app, realm, access_key_id, timeout=30):
    """The secret stored for (realm, access_key_id) in the app's storage/passwords."""
    if not server_uri or not session_key:
        raise CredentialError("no server_uri/session_key from splunkd to read the credential store")
    url = "%s/servicesNS/nobody/%s/storage/passwords?%s" % (
        server_uri.rstrip("/"), quote(app, safe=""), urlencode({"output_mode": "json", "count": "0"}))
    request = Request(url, headers={"Authorization": "Splunk %s" % session_key})
    kwargs = {"timeout": timeout}
    if url.startswith("https:"):
        kwargs["context"] = _context(server_uri)
    try:
        with urlopen(request, **kwargs) as reply:
            document = json.loads(reply.read().decode("utf-8"))
    except HTTPError as err:
        raise CredentialError("storage/passwords answered HTTP %d" % err.code)
    except (URLError, OSError, ValueError) as err:
        raise CredentialError("cannot read storage/passwords at %s: %s" % (server_uri, err))
    for entry in document.get("entry", ()):
        content = entry.get("content", {})
        if content.get("realm") == realm and content.get("username") == access_key_id:
            secret = content.get("clear_password")
            if secret:
                return secret
    raise CredentialError("no credential for access key %s in realm %s of storage/passwords (app %s)"
                          % (access_key_id, realm, app))
