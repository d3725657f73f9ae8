"""SMS and voice calls: the provider interface, the console backend, and 腾讯云 SendSms /
SendTtsVoice through the official SDK against a local fake server speaking the documented
API 3.0 (JSON POST, X-TC-Action, TC3-HMAC-SHA256 signature)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from emergencies import phone
from emergencies.models import PhoneMessage
from emergencies.sweep import sweep
from emergencies.testing import T0, report, standard_roster

MIN = dt.timedelta(minutes=1)


class FakeTencentCloud(BaseHTTPRequestHandler):
    requests: list = []
    sms_code = "Ok"

    def do_POST(self):  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        action = self.headers.get("X-TC-Action")
        FakeTencentCloud.requests.append({"action": action, "auth": self.headers.get("Authorization", ""),
                                          "version": self.headers.get("X-TC-Version"), "body": body})
        if not self.headers.get("Authorization", "").startswith("TC3-HMAC-SHA256 Credential=AKIDtest/"):
            payload = {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"},
                                    "RequestId": "r0"}}
        elif action == "SendSms":
            payload = {"Response": {"SendStatusSet": [{
                "SerialNo": "2019:538884*", "PhoneNumber": body["PhoneNumberSet"][0], "Fee": 1,
                "SessionContext": "", "Code": FakeTencentCloud.sms_code,
                "Message": "send success" if FakeTencentCloud.sms_code == "Ok" else "daily limit",
                "IsoCode": "CN"}], "RequestId": "a0708ddc"}}
        elif action == "SendTtsVoice":
            payload = {"Response": {"SendStatus": {"CallId": "call-1234", "SessionContext": ""},
                                    "RequestId": "b1"}}
        else:
            payload = {"Response": {"Error": {"Code": "InvalidAction", "Message": action}, "RequestId": "x"}}
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def tencent(settings, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), FakeTencentCloud)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeTencentCloud.requests = []
    FakeTencentCloud.sms_code = "Ok"
    env = {
        "EMERGENCY_PHONE_BACKEND": "emergencies.phone.TencentCloudBackend",
        "TENCENTCLOUD_SECRET_ID": "AKIDtest", "TENCENTCLOUD_SECRET_KEY": "secret",
        "TENCENT_SMS_SDK_APP_ID": "1400000001", "TENCENT_SMS_SIGN_NAME": "示范物业", "TENCENT_SMS_TEMPLATE_ID": "100",
        "TENCENT_VMS_SDK_APP_ID": "1400000002", "TENCENT_VMS_TEMPLATE_ID": "200",
        "TENCENT_API_ENDPOINT": f"127.0.0.1:{server.server_port}", "TENCENT_API_PROTOCOL": "http",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield FakeTencentCloud
    server.shutdown()
    server.server_close()


@pytest.fixture
def roster(org):
    standard_roster(org)
    eng = org.users["eng_staff"]
    eng.mobile = "13800000601"
    eng.save(update_fields=["mobile"])
    return org


def test_paging_queues_one_sms_per_person_with_a_mobile(roster):
    e, _ = report(roster)
    rows = list(PhoneMessage.objects.filter(emergency=e).select_related("user"))
    with_mobile = {p.user.username for p in e.paged.select_related("user") if p.user.mobile}
    assert {r.user.username for r in rows} == with_mobile and "eng_staff" in with_mobile
    assert all(r.channel == "sms" and r.status == "queued" and r.phone == r.user.mobile for r in rows)
    assert rows[0].params == [e.number, "电梯困人", "阳光花园3 号楼 2 号电梯"]
    report(roster, key=e.idempotency_key)  # a double tap adds no message
    assert PhoneMessage.objects.filter(emergency=e).count() == len(rows)


def test_console_backend_sends_and_the_timeline_shows_it(roster):
    e, _ = report(roster)
    row = PhoneMessage.objects.get(emergency=e, user=roster.users["eng_staff"])
    assert phone.send(row.pk) == "sent"
    assert phone.send(row.pk) == "sent"  # a second run sends nothing more
    row.refresh_from_db()
    assert row.attempts == 1 and row.backend == "console" and row.sent_at is not None
    assert e.entries.filter(kind="phone", text__contains="短信已发出").count() == 1


def test_tencent_sms_through_the_sdk_against_the_fake_server(roster, tencent):
    e, _ = report(roster)
    row = PhoneMessage.objects.get(emergency=e, user=roster.users["eng_staff"])
    assert phone.send(row.pk) == "sent"
    sent = tencent.requests[-1]
    assert sent["action"] == "SendSms" and sent["version"] == "2021-01-11"
    assert sent["body"]["PhoneNumberSet"] == ["+8613800000601"]
    assert sent["body"]["SmsSdkAppId"] == "1400000001" and sent["body"]["TemplateId"] == "100"
    assert sent["body"]["SignName"] == "示范物业"
    assert sent["body"]["TemplateParamSet"][0] == e.number
    row.refresh_from_db()
    assert row.provider_id == "2019:538884*"


def test_a_throttled_sms_is_recorded_as_failed_and_visible(roster, tencent):
    tencent.sms_code = "LimitExceeded.PhoneNumberDailyLimit"
    e, _ = report(roster)
    row = PhoneMessage.objects.get(emergency=e, user=roster.users["eng_staff"])
    assert phone.send(row.pk) == "failed"
    row.refresh_from_db()
    assert row.error.startswith("LimitExceeded.PhoneNumberDailyLimit")
    assert e.entries.filter(kind="phone", text__contains="发送失败").exists()


def test_wrong_credentials_fail_with_the_provider_error(roster, tencent, monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDwrong")
    e, _ = report(roster)
    row = PhoneMessage.objects.get(emergency=e, user=roster.users["eng_staff"])
    assert phone.send(row.pk) == "failed"
    row.refresh_from_db()
    assert "AuthFailure" in row.error


def test_voice_call_when_the_response_is_about_to_be_missed(roster, tencent):
    e, _ = report(roster)
    sweep(T0 + 24 * MIN)
    assert not PhoneMessage.objects.filter(channel="voice").exists()
    sweep(T0 + 26 * MIN)
    voices = PhoneMessage.objects.filter(channel="voice")
    assert set(voices.values_list("user__username", flat=True)) <= {"eng_staff", "sec_staff", "site_staff"}
    voice = voices.get(user=roster.users["eng_staff"])
    assert voice.status == "queued"
    sweep(T0 + 27 * MIN)  # the worker task did not run here (no commit): the next sweep sends it
    voice.refresh_from_db()
    assert voice.status == "sent" and voice.provider_id == "call-1234"
    calls = [r for r in tencent.requests if r["body"].get("CalledNumber") == "+8613800000601"]
    assert len(calls) == 1  # phoned once, however many sweeps
    call = calls[0]
    assert call["action"] == "SendTtsVoice" and call["body"]["CalledNumber"] == "+8613800000601"
    assert call["body"]["VoiceSdkAppid"] == "1400000002"
    assert e.milestones.get(kind="respond").warned_at == T0 + 26 * MIN


def test_no_voice_call_once_acknowledged(roster):
    from emergencies import services

    e, _ = report(roster)
    services.acknowledge(e, roster.users["eng_staff"], when=T0 + 3 * MIN)
    sweep(T0 + 26 * MIN)
    assert not PhoneMessage.objects.filter(channel="voice").exists()


def test_messages_left_queued_by_a_lost_task_are_sent_by_the_sweep(roster):
    e, _ = report(roster)
    row = PhoneMessage.objects.get(emergency=e, user=roster.users["eng_staff"])
    PhoneMessage.objects.filter(pk=row.pk).update(created_at=T0 - 2 * MIN)
    sweep(T0 + 1 * MIN)  # nothing due: the sweep still sends what the lost task did not
    row.refresh_from_db()
    assert row.status == "sent"
