"""``python -m httpqq`` (and the ``httpqq`` command): poke at an HTTP QQ
server from a shell.

The password comes from the environment variable ``HTTPQQ_PASSWORD``, else
from a prompt (or one line of standard input when it is not a terminal);
never from the command line, where other users could read it::

    $ export HTTPQQ_PASSWORD
    $ read -s HTTPQQ_PASSWORD
    $ httpqq --host 127.0.0.1 --uin 10001 send 10002 "你好"
    $ httpqq --host 127.0.0.1 --uin 10001 listen         # until Ctrl-C
    $ httpqq --host 127.0.0.1 --uin 10001 --json friends  # for scripts

Output is for people by default; ``--json`` prints JSON (one object per
line for ``listen``). The exit status says what failed (see ``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import enum
import getpass
import json
import os
import sys
from typing import Any, Callable, Optional, Sequence, TextIO

import httpqq

#: The exit status for each kind of failure (the first match counts).
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (httpqq.LoginFailed, 3),
    (httpqq.InvalidUin, 4),
    (httpqq.Throttled, 5),
    (httpqq.NotLoggedIn, 6),
    (httpqq.TransportError, 7),
    (httpqq.Timeout, 7),
    (httpqq.NoReply, 8),
    (httpqq.ProtocolError, 8),
    (httpqq.InvalidConfig, 2),
    (ValueError, 2),
    (httpqq.Error, 1),
)

EPILOG = """\
exit status: 0 done; 1 another httpqq error; 2 a bad argument or setting;
3 login refused (wrong password); 4 invalid or unknown UIN; 5 throttled
(RES=3: slow down); 6 not logged in (RES=20); 7 network failure or
timeout; 8 the server's reply was missing or broken; 130 interrupted.

The password is read from HTTPQQ_PASSWORD, else from a prompt."""

STATUS_NAMES = {status.name.lower(): status for status in httpqq.Status}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line ``argv`` (default: ``sys.argv[1:]``); returns
    the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    out = _Output(sys.stdout, as_json=args.json)
    try:
        password = _password()
        client = httpqq.Client(
            args.host,
            args.port,
            timeout=args.timeout,
            tls=True if args.tls else None,
            ca_file=args.ca_file,
        )
        result: int = args.run(args, client, password, out)
        return result
    except KeyboardInterrupt:
        return 130
    except (httpqq.Error, ValueError) as failure:
        out.error(failure)
        return exit_code(failure)


def error_json(failure: BaseException) -> dict[str, Any]:
    """What ``--json`` prints (on stderr) for a failure: ``error`` (the
    exception's class) and ``message``; for an httpqq error also
    ``outcome`` (``"refused"``: certainly not done, ``"unknown"``: maybe
    done) and, where they apply, ``code`` (the result code), ``reason``,
    ``retry_after`` (seconds) and ``phase``."""
    data: dict[str, Any] = {"error": type(failure).__name__, "message": str(failure)}
    if isinstance(failure, httpqq.Error):
        data["outcome"] = failure.outcome.name.lower()
        if failure.code is not None:
            data["code"] = failure.code
    reason = getattr(failure, "reason", None)
    if reason:
        data["reason"] = reason
    retry_after = getattr(failure, "retry_after", None)
    if retry_after is not None:
        data["retry_after"] = retry_after
    phase = getattr(failure, "phase", None)
    if isinstance(phase, httpqq.Phase):
        data["phase"] = phase.name.lower()
    return data


def exit_code(failure: BaseException) -> int:
    """The exit status for an exception (see ``EXIT_CODES``)."""
    for kind, code in EXIT_CODES:
        if isinstance(failure, kind):
            return code
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="httpqq",
        description="A command-line client of HTTP QQ 1.1.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default="tqq.tencent.com",
        help="the server, or https://host[:port] for TLS (default: %(default)s)",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="its port (default: 8000; 443 with https://)"
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="speak TLS to the server (this project's extension; its certificate is verified)",
    )
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        default=None,
        help="trust the certificate authorities in this PEM file (for a private server)",
    )
    parser.add_argument("--uin", "-u", type=int, required=True, help="your QQ number")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for a reply (default: %(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    send = commands.add_parser("send", help="send a text message")
    send.add_argument("to", type=int, help="the recipient's UIN")
    send.add_argument("text", help="the message")
    send.set_defaults(run=_send)

    listen = commands.add_parser("listen", help="print incoming messages and events until Ctrl-C")
    listen.add_argument("--interval", type=float, default=5.0, help="seconds between polls (default: %(default)s)")
    listen.add_argument("--count", type=int, default=None, help="stop after this many messages")
    listen.set_defaults(run=_listen)

    friends = commands.add_parser("friends", help="list your friends' UINs")
    friends.set_defaults(run=_friends)

    online = commands.add_parser("online", help="list the friends who are online")
    online.set_defaults(run=_online)

    whois = commands.add_parser("whois", help="show a user's profile")
    whois.add_argument("who", type=int, help="their UIN")
    whois.set_defaults(run=_whois)

    add = commands.add_parser("add", help="add a friend")
    add.add_argument("who", type=int, help="their UIN")
    add.set_defaults(run=_add)

    status = commands.add_parser("status", help="set your status")
    status.add_argument("status", choices=sorted(STATUS_NAMES), help="the new status")
    status.set_defaults(run=_status)
    return parser


def _password() -> str:
    password = os.environ.get("HTTPQQ_PASSWORD")
    if password is not None:
        return password
    if sys.stdin.isatty():
        return getpass.getpass("QQ password: ")
    line = sys.stdin.readline()
    if not line:
        raise ValueError("no password: set HTTPQQ_PASSWORD, or give it on standard input")
    return line.rstrip("\r\n")


class _Output:
    """Human text or JSON, on the given stream; errors on stderr."""

    def __init__(self, stream: TextIO, *, as_json: bool) -> None:
        self.stream = stream
        self.as_json = as_json

    def show(self, data: Any, human: Callable[[], str]) -> None:
        text = json.dumps(data, ensure_ascii=False) if self.as_json else human()
        if text:
            print(text, file=self.stream, flush=True)

    def error(self, failure: BaseException) -> None:
        if self.as_json:
            print(json.dumps(error_json(failure), ensure_ascii=False), file=sys.stderr)
        else:
            print(f"httpqq: {failure}", file=sys.stderr)


def _send(args: argparse.Namespace, client: httpqq.Client, password: str, out: _Output) -> int:
    with client.login(args.uin, password) as session:
        session.send(args.to, args.text)
    out.show({"sent": True, "to": args.to}, lambda: "")
    return 0


def _friends(args: argparse.Namespace, client: httpqq.Client, password: str, out: _Output) -> int:
    with client.login(args.uin, password) as session:
        uins = session.friends()
    out.show(uins, lambda: "\n".join(str(uin) for uin in uins))
    return 0


def _online(args: argparse.Namespace, client: httpqq.Client, password: str, out: _Output) -> int:
    with client.login(args.uin, password) as session:
        friends = session.online_friends()
    data = [
        {"uin": f.uin, "status": f.status.name.lower(), "face": f.face, "nickname": f.nickname}
        for f in friends
    ]
    out.show(data, lambda: "\n".join(f"{f['uin']}\t{f['status']}\t{f['nickname']}" for f in data))
    return 0


PROFILE = (
    "nickname", "real_name", "age", "gender", "blood_type", "constellation", "zodiac", "country",
    "province", "city", "address", "postal_code", "phone", "mobile", "email", "homepage",
    "occupation", "school", "introduction", "face",
)  # fmt: skip


def _whois(args: argparse.Namespace, client: httpqq.Client, password: str, out: _Output) -> int:
    with client.login(args.uin, password) as session:
        info = session.user_info(args.who)
    data: dict[str, Any] = {"uin": info.uin, "level": info.level}
    for name in PROFILE:
        value = getattr(info, name)
        if value is not None and value != "":
            data[name] = value.name.lower() if isinstance(value, enum.Enum) else value
    out.show(data, lambda: "\n".join(f"{key}: {value}" for key, value in data.items()))
    return 0


def _add(args: argparse.Namespace, client: httpqq.Client, password: str, out: _Output) -> int:
    with client.login(args.uin, password) as session:
        outcome = session.add_friend(args.who)
    name = outcome.name.lower()
    out.show({"outcome": name}, lambda: name.replace("_", " "))
    return 0


def _status(args: argparse.Namespace, client: httpqq.Client, password: str, out: _Output) -> int:
    with client.login(args.uin, password) as session:
        session.set_status(STATUS_NAMES[args.status])
    out.show({"status": args.status}, lambda: "")
    return 0


def _listen(args: argparse.Namespace, client: httpqq.Client, password: str, out: _Output) -> int:
    received = 0
    with httpqq.Agent(client, args.uin, password, poll_interval=args.interval) as agent:
        for event in agent:  # Ctrl-C interrupts; leaving the block logs out
            data, human = _event(event)
            out.show(data, lambda: human)
            if event.kind is httpqq.EventKind.MESSAGE:
                received += 1
                if args.count is not None and received >= args.count:
                    break
            if event.kind is httpqq.EventKind.STOPPED and event.error is not None:
                raise event.error
    return 0


def _event(event: httpqq.Event) -> tuple[dict[str, Any], str]:
    kind = event.kind.name.lower()
    data: dict[str, Any] = {"event": kind}
    message = event.message
    if message is not None:
        data.update(kind=message.kind.name.lower(), sender=message.sender, text=message.text)
        if message.status is not None:
            data["status"] = message.status.name.lower()
            return data, f"{message.sender} is now {data['status']}"
        if message.kind is httpqq.MessageKind.TEXT:
            return data, f"{message.sender}: {message.text}"
        return data, f"{message.sender} ({data['kind']}): {message.text}"
    human = kind.replace("_", " ")
    if event.retry_in is not None:
        data["retry_in"] = event.retry_in
        human += f", next try in {event.retry_in:.1f} s"
    if event.error is not None:
        data["error"] = str(event.error)
        human += f" ({event.error})"
    return data, f"-- {human}"


if __name__ == "__main__":
    sys.exit(main())
