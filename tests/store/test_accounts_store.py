"""AccountStore on each backend: keys, authentication, credentials and their rotation, teammates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hookline.errors import Invalid, NotFound
from hookline.models import Environment, Scope
from hookline.store import Store, open_store
from tests.conftest import Account, unique_name


async def test_keys_share_their_account_and_are_listed_per_account(store: Store) -> None:
    """A second key joins the account the first created; list_keys names only that account's."""
    name = unique_name()
    await store.accounts.create_key(
        account=name, environment=Environment.LIVE, scopes=[Scope.SUBMIT]
    )
    await store.accounts.create_key(
        account=f"  {name} ",
        environment=Environment.TEST,
        scopes=[Scope.WORK, Scope.AUDIT],
        email="ann@example.com",
    )
    await store.accounts.create_key(
        account=unique_name(), environment=Environment.LIVE, scopes=[Scope.SUBMIT]
    )
    keys = await store.accounts.list_keys(name)
    assert [k.account_name for k in keys] == [name, name]
    assert [k.environment for k in keys] == [Environment.LIVE, Environment.TEST]
    assert [k.scopes for k in keys] == [{Scope.SUBMIT}, {Scope.WORK, Scope.AUDIT}]
    assert [k.email for k in keys] == [f"{name}@hookline.local", "ann@example.com"]
    assert all(k.revoked_at is None for k in keys)
    assert await store.accounts.any_exists()


@pytest.mark.parametrize(
    ("account", "scopes", "message"),
    [
        pytest.param("  ", [Scope.SUBMIT], "must not be empty", id="blank-account"),
        pytest.param("acct", [], "at least one scope", id="no-scope"),
    ],
)
async def test_create_key_refuses(
    store: Store, account: str, scopes: list[Scope], message: str
) -> None:
    """A key needs an account name and a scope."""
    with pytest.raises(Invalid, match=message):
        await store.accounts.create_key(
            account=account, environment=Environment.LIVE, scopes=scopes
        )


async def test_authenticate_then_revoke(store: Store) -> None:
    """A key authenticates as its account and environment until revoked; a forged one never."""
    name = unique_name()
    key = await store.accounts.create_key(
        account=name, environment=Environment.TEST, scopes=[Scope.SUBMIT, Scope.WORK]
    )
    principal = await store.accounts.authenticate(key)
    assert principal is not None
    assert principal.account_name == name
    assert principal.environment is Environment.TEST
    assert principal.scopes == {Scope.SUBMIT, Scope.WORK}
    assert principal.key_id in key
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert await store.accounts.authenticate(forged) is None
    assert await store.accounts.authenticate("not-a-key") is None

    await store.accounts.revoke_key(key)  # the whole key is accepted as well as its id
    assert await store.accounts.authenticate(key) is None
    with pytest.raises(NotFound):
        await store.accounts.revoke_key(principal.key_id)
    [listed] = await store.accounts.list_keys(name)
    assert listed.revoked_at is not None


async def test_each_environment_has_credentials_of_its_own(store: Store, account: Account) -> None:
    """Live and test sign with different secrets; by name or by id gives the same credentials."""
    live, test = await store.accounts.all_credentials(account.name)
    assert (live.environment, test.environment) == (Environment.LIVE, Environment.TEST)
    assert live.webhook_secret != test.webhook_secret
    assert live.callback_auth_key != test.callback_auth_key
    assert live.previous_webhook_secret is None
    by_id = await store.accounts.credentials(account.live.account_id, Environment.TEST)
    assert by_id == test == await store.accounts.credentials(account.name, Environment.TEST)
    with pytest.raises(NotFound):
        await store.accounts.credentials(unique_name(), Environment.LIVE)


async def test_rotation_keeps_the_old_secret_for_the_grace_period(
    database_url: str, account: Account
) -> None:
    """Rotating one environment's secret keeps the old one until the grace ends; the other
    environment's is untouched, and a second rotation retires the first secret."""
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    store = open_store(database_url, clock=lambda: now)
    try:
        before_live, before_test = await store.accounts.all_credentials(account.name)
        rotated = await store.accounts.rotate_webhook_secret(
            account.live.account_id, Environment.LIVE, grace_s=3600
        )
        again = await store.accounts.rotate_webhook_secret(
            account.live.account_id, Environment.LIVE, grace_s=60
        )
        after_live, after_test = await store.accounts.all_credentials(account.name)
        with pytest.raises(NotFound):
            await store.accounts.rotate_webhook_secret(10**9, Environment.LIVE, grace_s=1)
    finally:
        await store.close()
    assert rotated.account == account.name
    assert rotated.previous_webhook_secret == before_live.webhook_secret
    assert rotated.webhook_secret not in (before_live.webhook_secret, before_test.webhook_secret)
    assert rotated.previous_secret_expires_at == now + timedelta(seconds=3600)
    assert again.previous_webhook_secret == rotated.webhook_secret
    assert again.previous_secret_expires_at == now + timedelta(seconds=60)
    assert after_live == again
    assert after_test == before_test
    assert after_live.callback_auth_key == before_live.callback_auth_key


async def test_teammates_are_active_keys_by_email_with_roles(store: Store) -> None:
    """Each e-mail once, its role from all its active keys' scopes; revoked keys drop out."""
    name = unique_name()

    async def key(email: str, *scopes: Scope) -> str:
        return await store.accounts.create_key(
            account=name, environment=Environment.LIVE, scopes=scopes, email=email
        )

    await key("a@x.io", Scope.WORK)
    await key("a@x.io", Scope.AUDIT)
    await key("b@x.io", Scope.WORK)
    await key("c@x.io", Scope.SUBMIT)
    await key("d@x.io", Scope.ADMIN, Scope.SUBMIT)
    gone = await key("e@x.io", Scope.ADMIN)
    await store.accounts.revoke_key(gone)
    principal = await store.accounts.authenticate(await key("f@x.io", Scope.SUBMIT, Scope.WORK))
    assert principal is not None
    teammates = await store.accounts.teammates(principal.account_id)
    assert [(t.email, t.role) for t in teammates] == [
        ("a@x.io", "manager"),
        ("b@x.io", "labeler"),
        ("c@x.io", "member"),
        ("d@x.io", "admin"),
        ("f@x.io", "member"),
    ]
