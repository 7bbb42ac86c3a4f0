"""A real SMTP server for the browser tests (Debian's python3-aiosmtpd):
smtp_sink.py PORT DIR writes each message it accepts to DIR as one JSON
file {to, from, subject, text} (the text part, decoded) and runs until
SIGTERM."""
import email
import email.policy
import json
import os
import signal
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.dir = directory

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content,
                                       policy=email.policy.default)
        body = msg.get_body(("plain",))
        out = {"to": list(envelope.rcpt_tos), "from": envelope.mail_from,
               "subject": str(msg["Subject"]),
               "text": body.get_content() if body else ""}
        name = os.path.join(self.dir, "%020d.json" % time.time_ns())
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(out, f)
        os.rename(name + ".tmp", name)
        return "250 OK: queued"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
