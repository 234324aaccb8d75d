"""The contract's vocabularies are the agent's: a value the server sends is one a client knows."""

from __future__ import annotations

from typing import get_args

import pytest

from abhaya.agent.store.access import ApprovalScope, RequestStatus
from abhaya.agent.store.alerts import AlertSeverity
from abhaya.agent.store.events import EventKind
from abhaya.client import contract


@pytest.mark.parametrize(
    ("literal", "enum"),
    [
        (contract.RequestStatus, RequestStatus),
        (contract.Scope, ApprovalScope),
        (contract.Severity, AlertSeverity),
    ],
)
def test_the_contracts_choices_are_the_agents(literal: object, enum: type[object]) -> None:
    assert set(get_args(literal)) == {str(member) for member in enum}


def test_the_contracts_event_kinds_are_the_stores() -> None:
    assert tuple(str(kind) for kind in EventKind) == contract.EVENT_KINDS


def test_every_path_is_under_the_versioned_prefix() -> None:
    paths = [value for name, value in vars(contract).items() if name.isupper() and name != "PREFIX"]
    paths = [value for value in paths if isinstance(value, str) and value.startswith("/")]
    assert len(paths) >= 12
    assert all(path.startswith(f"/v{contract.API_VERSION}/") for path in paths)
