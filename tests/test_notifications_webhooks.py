"""Group robots against a real HTTP server on 127.0.0.1: DingTalk signature, retries, failures."""

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

import pytest

from portal.notifications import webhooks
from portal.notifications.models import Channel, GroupRobot, Notification, Status
from portal.notifications.services import deliver, notify, resend, retry_due

pytestmark = pytest.mark.django_db

SECRET = "SECdemo0123456789abcdef"


class RobotServer:
    """A stand-in for oapi.dingtalk.com / qyapi.weixin.qq.com that checks DingTalk's 加签."""

    def __init__(self, secret=None, fail_first=0, always_fail=False):
        self.secret, self.fail_first, self.always_fail = secret, fail_first, always_fail
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                outer.requests.append({"path": self.path, "query": query, "body": body})
                if outer.always_fail or len(outer.requests) <= outer.fail_first:
                    self._answer(500, {"error": "internal"})
                elif outer.secret and not outer.signature_ok(query):
                    self._answer(200, {"errcode": 310000, "errmsg": "sign not match"})
                else:
                    self._answer(200, {"errcode": 0, "errmsg": "ok"})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def signature_ok(self, query):
        # Recomputed independently of the code under test, from DingTalk's documented recipe.
        timestamp = query.get("timestamp", "")
        string_to_sign = f"{timestamp}\n{self.secret}".encode()
        expected = base64.b64encode(hmac.new(self.secret.encode(), string_to_sign, hashlib.sha256).digest()).decode()
        fresh = abs(int(timestamp or 0) - int(timezone.now().timestamp() * 1000)) < 3_600_000
        return fresh and query.get("sign") == expected  # parse_qsl already URL-decoded it

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _robot(org, server, provider="dingtalk", secret=SECRET, kinds=("matter.overdue",)):
    return GroupRobot.objects.create(
        department=org.depts["engineering"],
        name="工程部工作群",
        provider=provider,
        webhook_url=server.url,
        secret=secret,
        kinds=list(kinds),
    )


def _send(users, capture, **kw):
    kw.setdefault("kind", "matter.overdue")
    kw.setdefault("event_key", "matter:1:overdue")
    kw.setdefault("title", "事项 XT-0001 已超期")
    kw.setdefault("body", "请工程部尽快处理。")
    kw.setdefault("url", "/matters/1/")
    with capture(execute=True):
        return notify(users, **kw)


def test_dingtalk_robot_gets_one_signed_markdown_message(org, django_capture_on_commit_callbacks):
    with RobotServer(secret=SECRET) as server:
        robot = _robot(org, server)
        people = [org.users["eng_head"], org.users["eng_staff"]]
        _send(people, django_capture_on_commit_callbacks)
        _send(people, django_capture_on_commit_callbacks)  # the same event again: nothing new
    assert len(server.requests) == 1
    request = server.requests[0]
    assert server.signature_ok(request["query"])
    assert request["body"]["msgtype"] == "markdown"
    assert request["body"]["markdown"]["title"] == "事项 XT-0001 已超期"
    assert "请工程部尽快处理。" in request["body"]["markdown"]["text"]
    assert "/matters/1/" in request["body"]["markdown"]["text"]
    row = Notification.objects.get(robot=robot)
    assert row.status == Status.SENT and row.attempts == 1 and row.recipient_id is None


def test_wrong_secret_is_reported_as_the_platforms_error(org, django_capture_on_commit_callbacks):
    with RobotServer(secret=SECRET) as server:
        robot = _robot(org, server, secret="SECwrong")
        _send([org.users["eng_head"]], django_capture_on_commit_callbacks)
    row = Notification.objects.get(robot=robot)
    assert row.status == Status.RETRYING
    assert "310000" in row.last_error and "sign not match" in row.last_error


def test_wecom_robot_payload(org, django_capture_on_commit_callbacks):
    with RobotServer() as server:
        _robot(org, server, provider="wecom", secret="")
        _send([org.users["eng_head"]], django_capture_on_commit_callbacks)
    body = server.requests[0]["body"]
    assert body["msgtype"] == "markdown" and "### 事项 XT-0001 已超期" in body["markdown"]["content"]
    assert "sign" not in server.requests[0]["query"]


def test_robot_posts_only_subscribed_kinds_and_explicit_departments(org, django_capture_on_commit_callbacks):
    with RobotServer(secret=SECRET) as server:
        _robot(org, server)
        _send([org.users["eng_head"]], django_capture_on_commit_callbacks, kind="digest.daily", event_key="d")
        _send([], django_capture_on_commit_callbacks, departments=[org.depts["engineering"]], event_key="dept")
        _send([org.users["cs_head"]], django_capture_on_commit_callbacks, event_key="other-dept")
    assert [r["body"]["markdown"]["title"] for r in server.requests] == ["事项 XT-0001 已超期"]
    assert Notification.objects.filter(channel=Channel.ROBOT).count() == 1


def test_500_is_retried_by_the_sweep_then_delivered(org, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_NOTIFY_RETRY_DELAYS = [0, 0, 0]
    with RobotServer(secret=SECRET, fail_first=1) as server:
        robot = _robot(org, server)
        _send([org.users["eng_head"]], django_capture_on_commit_callbacks)
        row = Notification.objects.get(robot=robot)
        assert row.status == Status.RETRYING and "HTTP 500" in row.last_error
        with django_capture_on_commit_callbacks(execute=True):
            assert retry_due() == 1  # the sweep hands it to the (synchronous) worker again
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and row.last_error == ""
    assert len(server.requests) == 2 and server.signature_ok(server.requests[1]["query"])


def test_robot_that_keeps_failing_is_marked_failed_then_resent(org, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_NOTIFY_RETRY_DELAYS = [0, 0]
    with RobotServer(secret=SECRET, always_fail=True) as server:
        robot = _robot(org, server)
        _send([org.users["eng_head"]], django_capture_on_commit_callbacks)
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                retry_due()
        row = Notification.objects.get(robot=robot)
        assert row.status == Status.FAILED and row.attempts == 3
        assert "HTTP 500" in row.last_error
        assert retry_due() == 0  # failed rows wait for a person
        # The email to the person went out although the robot failed.
        assert len(mail.outbox) == 1
        server.always_fail = False
        with django_capture_on_commit_callbacks(execute=True):
            assert resend([row]) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1
    assert len(server.requests) == 4


def test_stuck_sending_row_is_recovered_by_the_sweep(org, django_capture_on_commit_callbacks):
    with RobotServer(secret=SECRET) as server:
        robot = _robot(org, server)
        notify([org.users["eng_head"]], kind="matter.overdue", event_key="e", title="t", channels=["robot"])
        row = Notification.objects.get(robot=robot)
        Notification.objects.filter(pk=row.pk).update(
            status=Status.SENDING, claimed_at=timezone.now() - timezone.timedelta(hours=1), attempts=1
        )
        assert deliver(row.pk) == "skipped"  # someone else is "sending" it
        with django_capture_on_commit_callbacks(execute=True):
            retry_due()
    row.refresh_from_db()
    assert row.status == Status.SENT and len(server.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "ftp://oapi.dingtalk.com/robot/send",
        "javascript:alert(1)",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://0.0.0.0/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_bad_webhook_addresses_are_refused_on_save(org, url):
    robot = GroupRobot(department=org.depts["engineering"], name="x", provider="wecom", webhook_url=url)
    with pytest.raises(ValidationError):
        robot.full_clean()
    with pytest.raises(ValidationError):
        robot.save()


def test_host_names_are_resolved_and_checked(org, monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host: ["169.254.169.254"])
    with pytest.raises(ValidationError, match="元数据"):
        webhooks.validate_webhook_url("https://innocent.example.com/hook")
    monkeypatch.setattr(webhooks, "resolve", lambda host: ["140.207.54.76"])
    webhooks.validate_webhook_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x")


def test_loopback_needs_the_setting_and_private_networks_need_listing(settings):
    settings.PORTAL_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError, match="本机"):
        webhooks.validate_webhook_url("http://127.0.0.1:8080/hook")
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    webhooks.validate_webhook_url("http://10.20.3.4/relay")
    with pytest.raises(ValidationError):
        webhooks.validate_webhook_url("http://10.21.3.4/relay")
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = ["169.254.0.0/16"]
    with pytest.raises(ValidationError):  # metadata stays refused whatever is listed
        webhooks.validate_webhook_url("http://169.254.169.254/")


def test_address_is_checked_again_at_send_time(org, settings, django_capture_on_commit_callbacks):
    with RobotServer() as server:
        robot = _robot(org, server, provider="wecom", secret="")
        settings.PORTAL_WEBHOOK_ALLOW_LOOPBACK = False
        _send([org.users["eng_head"]], django_capture_on_commit_callbacks)
    row = Notification.objects.get(robot=robot)
    assert "本机" in row.last_error and server.requests == []


def test_dingtalk_signature_matches_the_documented_example():
    # Values worked through by hand: HMAC-SHA256 over "timestamp\nsecret", base64, URL-encoded.
    ts = 1700000000000
    raw = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert webhooks.dingtalk_sign(SECRET, ts) == urllib.parse.quote_plus(base64.b64encode(raw))
    robot = GroupRobot(provider="dingtalk", webhook_url="https://oapi.dingtalk.com/robot/send?access_token=t", secret=SECRET)
    assert webhooks.signed_url(robot, ts).endswith(f"&timestamp={ts}&sign={webhooks.dingtalk_sign(SECRET, ts)}")
