"""Group-robot webhooks (企业微信, 钉钉): address validation, DingTalk signing, sending.

Address policy (checked on save and again right before every send, against DNS changes):
only http/https; never link-local (169.254.0.0/16, fe80::/10, which holds the cloud metadata
services), known metadata hosts (169.254.169.254, Alibaba Cloud's 100.100.100.200,
metadata.google.internal, ...), unspecified, multicast or reserved addresses. Other non-public
addresses (private ranges, carrier-grade NAT) are refused unless listed in
``PORTAL_WEBHOOK_ALLOWED_NETWORKS`` (an internal relay, say). Loopback is refused unless
``PORTAL_WEBHOOK_ALLOW_LOOPBACK`` is on: the test settings turn it on so tests can run a
receiver on 127.0.0.1; production leaves it off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
import time
import urllib.parse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

import requests

METADATA_HOSTS = {
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "metadata.tencentyun.com",
    "metadata.azure.com",
    "instance-data",
    "instance-data.ec2.internal",
}
METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.0.23", "100.100.100.200", "fd00:ec2::254")
}
TIMEOUT_SECONDS = 10


class WebhookError(Exception):
    """A robot refused or could not take the message; the text goes into the delivery's error."""


def resolve(host: str) -> list[str]:
    """All addresses of a host name (a separate function so tests can stand in for DNS)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def _allowed_networks():
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "PORTAL_WEBHOOK_ALLOWED_NETWORKS", [])]


def _check_address(ip) -> None:
    if ip in METADATA_ADDRESSES or ip.is_link_local:
        raise ValidationError(_("不允许指向链路本地或云服务器元数据地址（%(ip)s）。") % {"ip": ip})
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        raise ValidationError(_("不允许的地址：%(ip)s。") % {"ip": ip})
    if ip.is_loopback:
        if getattr(settings, "PORTAL_WEBHOOK_ALLOW_LOOPBACK", False):
            return
        raise ValidationError(_("不允许指向本机地址（%(ip)s）。") % {"ip": ip})
    if not ip.is_global and not any(ip in net for net in _allowed_networks()):
        raise ValidationError(
            _("不允许指向内网地址（%(ip)s）；如确需使用内部中转服务，请由运维在 PORTAL_WEBHOOK_ALLOWED_NETWORKS 中放行。")
            % {"ip": ip}
        )


def validate_webhook_url(url: str) -> None:
    """Raise ValidationError unless ``url`` is an http(s) address of a permitted host."""
    try:
        parts = urllib.parse.urlsplit((url or "").strip())
    except ValueError:
        raise ValidationError(_("Webhook 地址格式不正确。"))
    if parts.scheme not in ("http", "https"):
        raise ValidationError(_("Webhook 地址只能以 http:// 或 https:// 开头。"))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise ValidationError(_("Webhook 地址缺少主机名。"))
    if parts.username or parts.password:
        raise ValidationError(_("Webhook 地址不能包含用户名或密码。"))
    if host in METADATA_HOSTS:
        raise ValidationError(_("不允许指向云服务器元数据地址（%(host)s）。") % {"host": host})
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host)]
        except (OSError, UnicodeError):
            raise ValidationError(_("无法解析主机名 %(host)s，请检查地址。") % {"host": host})
        if not addresses:
            raise ValidationError(_("无法解析主机名 %(host)s，请检查地址。") % {"host": host})
    for ip in addresses:
        _check_address(ip)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(robot, now_ms: int | None = None) -> str:
    url = robot.webhook_url
    if robot.provider == "dingtalk" and robot.secret:
        ts = now_ms if now_ms is not None else int(time.time() * 1000)
        url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(robot.secret, ts)}"
    return url


def build_payload(robot, *, title: str, body: str, url: str) -> dict:
    lines = [f"### {title}"]
    if body:
        lines.append(body)
    if url:
        lines.append(f"[{_('查看详情')}]({url})")
    text = "\n\n".join(lines)
    if robot.provider == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def post(robot, payload: dict) -> None:
    """Send one message; raise WebhookError with a readable reason on any failure."""
    try:
        validate_webhook_url(robot.webhook_url)
    except ValidationError as exc:
        raise WebhookError("; ".join(exc.messages))
    try:
        response = requests.post(
            signed_url(robot), json=payload, timeout=TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise WebhookError(f"{type(exc).__name__}: {exc}")
    if response.status_code != 200:
        raise WebhookError(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        answer = response.json()
    except ValueError:
        raise WebhookError(f"HTTP 200 but not JSON: {response.text[:300]}")
    # Both platforms answer 200 with an errcode; 0 is success (310000 = bad signature on DingTalk).
    if answer.get("errcode", 0) != 0:
        raise WebhookError(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")
