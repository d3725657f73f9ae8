"""Helpers for tests and benchmarks: draft, submit and sign letters the way people do."""

from __future__ import annotations

from .demo import act, create_letter, ensure_groups, submit
from .models import LetterPage
from .setup import ensure_letter_setup

_counter = {"n": 0}


def draft_letter(org, *, owner="eng_head", issuing="engineering", to=("service",), cc=(), slug=None, **fields) -> LetterPage:
    index = ensure_letter_setup()
    _counter["n"] += 1
    defaults = {
        "title": "关于协助做好电梯年度检验期间业主告知工作的函",
        "subject": "我部定于下周对电梯进行年度检验，请贵部协助做好业主告知。",
        "background": "根据特种设备安全规定，电梯每年须检验一次。",
        "requests": "1. 请提前两日发布停梯通知。\n2. 请安排专人解答业主咨询。",
    }
    defaults.update(fields)
    letter, _ = create_letter(
        index,
        slug or f"test-letter-{_counter['n']}-{LetterPage.objects.count()}",
        org.users[owner],
        issuing_department=org.depts[issuing],
        to=[org.depts[c] for c in to],
        cc=[org.depts[c] for c in cc],
        **defaults,
    )
    return letter


def sign(org, letter, *, head="eng_head", leader="leader") -> LetterPage:
    """Submit the draft, approve as the head, 签发 as the leader; returns the fresh letter."""
    submit(letter, letter.owner)
    act(letter, org.users[head], "approve")
    act(letter, org.users[leader], "approve")
    return LetterPage.objects.get(pk=letter.pk)


__all__ = ["act", "draft_letter", "ensure_groups", "ensure_letter_setup", "sign", "submit"]
