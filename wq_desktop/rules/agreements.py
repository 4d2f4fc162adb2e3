"""Agreement status: which step may follow which."""

from __future__ import annotations

from wq_desktop.model import AGREEMENT_NEXT, AgreementStatus
from wq_desktop.rules._text import _fail


def _status(value: str) -> AgreementStatus:
    try:
        return AgreementStatus(value)
    except ValueError:
        allowed = "、".join(s.value for s in AgreementStatus)
        raise _fail(f"协议状态“{value}”无效，应为{allowed}之一", "status") from None


def check_agreement_transition(current: str, target: str) -> None:
    """Allow the one forward step, or 终止 from any live status; refuse everything else."""
    cur = _status(current)
    tgt = _status(target)
    if cur is AgreementStatus.TERMINATED:
        raise _fail(
            f"协议已“终止”，不能再改为“{tgt.value}”：终止后的协议不可变更状态", "status"
        )
    allowed = [s for s in (AGREEMENT_NEXT.get(cur), AgreementStatus.TERMINATED) if s]
    if tgt in allowed:
        return
    allowed_text = "或".join(f"“{s.value}”" for s in allowed)
    if tgt is cur:
        raise _fail(f"协议已是“{cur.value}”状态，下一步只能改为{allowed_text}", "status")
    raise _fail(
        f"协议状态不能从“{cur.value}”改为“{tgt.value}”：当前只能改为{allowed_text}",
        "status",
    )
