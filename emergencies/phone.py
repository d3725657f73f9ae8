"""SMS and voice calls to the people paged, through a provider interface.

``EMERGENCY_PHONE_BACKEND`` (setting or environment variable) names the backend class:
``emergencies.phone.ConsoleBackend`` (the default; logs the message, for the demo) or
``emergencies.phone.TencentCloudBackend`` (腾讯云短信 SendSms and 语音消息 SendTtsVoice through the
official SDK). Every message is a ``PhoneMessage`` row written in the paging transaction
(queued), sent by a worker task after commit and, should that task be lost (worker down), by
the minute sweep; a row is claimed under its lock, so it is sent once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    ok: bool
    provider_id: str = ""
    error: str = ""


class PhoneBackend:
    """The interface: ``send_sms`` and ``call`` take an 11-digit mainland mobile number and the
    template parameters, and say whether the provider accepted the message."""

    name = "base"

    def send_sms(self, phone: str, params: list[str]) -> Delivery:
        raise NotImplementedError

    def call(self, phone: str, params: list[str]) -> Delivery:
        raise NotImplementedError


class ConsoleBackend(PhoneBackend):
    name = "console"

    def send_sms(self, phone: str, params: list[str]) -> Delivery:
        logger.warning("SMS to %s: %s", phone, " / ".join(params))
        return Delivery(True, f"console-sms-{phone}")

    def call(self, phone: str, params: list[str]) -> Delivery:
        logger.warning("Voice call to %s: %s", phone, " / ".join(params))
        return Delivery(True, f"console-call-{phone}")


def _env(name: str, default: str = "") -> str:
    return str(getattr(settings, name, None) or os.environ.get(name, default))


class TencentCloudBackend(PhoneBackend):
    """腾讯云 SMS (sms 2021-01-11 SendSms) and voice (vms 2020-09-02 SendTtsVoice).

    Environment: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENT_SMS_SDK_APP_ID,
    TENCENT_SMS_SIGN_NAME, TENCENT_SMS_TEMPLATE_ID, TENCENT_VMS_SDK_APP_ID,
    TENCENT_VMS_TEMPLATE_ID; TENCENT_API_REGION (ap-guangzhou); TENCENT_API_ENDPOINT and
    TENCENT_API_PROTOCOL only to point the SDK elsewhere (the tests' fake server)."""

    name = "tencentcloud"

    def _profile(self, default_endpoint: str):
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile

        http = HttpProfile(
            protocol=_env("TENCENT_API_PROTOCOL", "https"),
            endpoint=_env("TENCENT_API_ENDPOINT", default_endpoint),
            reqTimeout=10,
        )
        return ClientProfile(httpProfile=http)

    def _credential(self):
        from tencentcloud.common import credential

        return credential.Credential(_env("TENCENTCLOUD_SECRET_ID"), _env("TENCENTCLOUD_SECRET_KEY"))

    def send_sms(self, phone: str, params: list[str]) -> Delivery:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models, sms_client

        client = sms_client.SmsClient(self._credential(), _env("TENCENT_API_REGION", "ap-guangzhou"),
                                      self._profile("sms.tencentcloudapi.com"))
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{phone}"]
        request.SmsSdkAppId = _env("TENCENT_SMS_SDK_APP_ID")
        request.SignName = _env("TENCENT_SMS_SIGN_NAME")
        request.TemplateId = _env("TENCENT_SMS_TEMPLATE_ID")
        request.TemplateParamSet = [p[:20] for p in params]
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            return Delivery(False, error=f"{exc.get_code()}: {exc.get_message()}"[:500])
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            return Delivery(False, error="empty SendStatusSet")
        if status.Code != "Ok":
            return Delivery(False, status.SerialNo or "", f"{status.Code}: {status.Message}"[:500])
        return Delivery(True, status.SerialNo or response.RequestId or "")

    def call(self, phone: str, params: list[str]) -> Delivery:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.vms.v20200902 import models, vms_client

        client = vms_client.VmsClient(self._credential(), _env("TENCENT_API_REGION", "ap-guangzhou"),
                                      self._profile("vms.tencentcloudapi.com"))
        request = models.SendTtsVoiceRequest()
        request.CalledNumber = f"+86{phone}"
        request.VoiceSdkAppid = _env("TENCENT_VMS_SDK_APP_ID")
        request.TemplateId = _env("TENCENT_VMS_TEMPLATE_ID")
        request.TemplateParamSet = [p[:20] for p in params]
        request.PlayTimes = 2
        try:
            response = client.SendTtsVoice(request)
        except TencentCloudSDKException as exc:
            return Delivery(False, error=f"{exc.get_code()}: {exc.get_message()}"[:500])
        call_id = response.SendStatus.CallId if response.SendStatus else ""
        return Delivery(bool(call_id), call_id or "", "" if call_id else "no CallId")


def get_backend() -> PhoneBackend:
    path = _env("EMERGENCY_PHONE_BACKEND", "emergencies.phone.ConsoleBackend")
    return import_string(path)()


def queue_messages(emergency, users, *, channel: str, event: str, params: list[str], when) -> list[int]:
    """Write one queued row per person with a mobile (inside the caller's transaction) and hand
    them to the worker after commit. Returns the new rows' ids."""
    from .models import PhoneMessage

    ids = []
    for user in users:
        phone = (getattr(user, "mobile", "") or "").strip()
        if not phone:
            continue
        row, created = PhoneMessage.objects.get_or_create(
            emergency=emergency, user=user, channel=channel, event=event,
            defaults={"phone": phone, "params": params, "created_at": when},
        )
        if created:
            ids.append(row.pk)
    if ids:
        transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return ids


def _enqueue(ids: list[int]) -> None:
    from django_q.tasks import async_task

    for pk in ids:
        async_task("emergencies.tasks.send_phone_message", pk, task_name=f"emergency-phone-{pk}")


def send(pk: int) -> str:
    """Send one queued message; idempotent (a row not queued is left alone). Returns its status."""
    from .models import EntryKind, PhoneMessage, TimelineEntry

    with transaction.atomic():
        row = PhoneMessage.objects.select_for_update().select_related("user").filter(pk=pk).first()
        if row is None or row.status != PhoneMessage.QUEUED:
            return row.status if row else "missing"
        backend = get_backend()
        try:
            result = backend.call(row.phone, row.params) if row.channel == "voice" else backend.send_sms(
                row.phone, row.params)
        except Exception as exc:  # noqa: BLE001 - any provider failure is recorded, never lost
            logger.exception("phone message %s failed", pk)
            result = Delivery(False, error=f"{type(exc).__name__}: {exc}"[:500])
        now = timezone.now()
        row.attempts += 1
        row.backend = backend.name
        row.provider_id = result.provider_id[:100]
        row.error = result.error
        row.status = PhoneMessage.SENT if result.ok else PhoneMessage.FAILED
        row.sent_at = now if result.ok else None
        row.save()
        label = _("语音电话") if row.channel == "voice" else _("短信")
        if result.ok:
            text = _("%(label)s已发出：%(who)s（%(phone)s）") % {"label": label, "who": row.user.get_full_name(),
                                                            "phone": row.phone}
        else:
            text = _("%(label)s发送失败：%(who)s（%(phone)s）%(error)s") % {
                "label": label, "who": row.user.get_full_name(), "phone": row.phone, "error": result.error}
        TimelineEntry.objects.create(emergency_id=row.emergency_id, kind=EntryKind.PHONE, text=text,
                                     data={"message": row.pk, "status": row.status}, created_at=now)
    return row.status


def send_stale(now, *, older_than_seconds: int = 60) -> int:
    """Messages still queued a minute after they were written (their task lost, the worker
    down): sent now, by the sweep."""
    from .models import PhoneMessage

    cutoff = now - dt.timedelta(seconds=older_than_seconds)
    ids = list(PhoneMessage.objects.filter(status=PhoneMessage.QUEUED, created_at__lte=cutoff)
               .values_list("pk", flat=True)[:200])
    return sum(send(pk) == PhoneMessage.SENT for pk in ids)
