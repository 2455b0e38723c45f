"""A local SMTP server for herald's notification tests, built on aiosmtpd
(the maintained asyncio SMTP server from PyPI): it listens on 127.0.0.1,
offers STARTTLS with the certificate it is given and requires it
(require_starttls), requires AUTH LOGIN/PLAIN with the one user it is
given, and only after STARTTLS (auth_require_tls), as a company relay
does. Each message it accepts is written as a JSON file into OUT_DIR:
{"mail_from", "rcpt_tos", "data", "tls", "user"}.

Usage: smtp_server.py PORT CERT KEY USER PASSWORD OUT_DIR
Prints "ready" once listening; stops on SIGTERM or when stdin closes.
"""

import json
import os
import signal
import ssl
import sys
import threading
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def main():
    port, cert, key, user, password, out_dir = sys.argv[1:7]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            getattr(auth_data, "login", None) == user.encode()
            and getattr(auth_data, "password", None) == password.encode()
        )
        # auth_data is kept on the session, so that each message records who logged in.
        return AuthResult(success=ok, auth_data=auth_data if ok else None)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "tls": session.ssl is not None,
                "user": (session.auth_data.login.decode() if session.auth_data and getattr(session.auth_data, "login", None) else None),
            }
            name = os.path.join(out_dir, uuid.uuid4().hex + ".json")
            with open(name + ".tmp", "w", encoding="utf-8") as f:
                json.dump(record, f)
            os.rename(name + ".tmp", name)
            return "250 OK"

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=int(port),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_exclude_mechanism=["CRAM-MD5"],
    )
    controller.start()
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
