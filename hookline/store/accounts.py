"""Accounts, their API keys, and the credentials that sign their callbacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from hookline.errors import Invalid, NotFound
from hookline.ids import hash_api_key, key_matches, new_api_key, parse_api_key
from hookline.models import AccountCredentials, ApiKey, Environment, Principal, Scope, Teammate
from hookline.signing import new_callback_auth_key, new_secret
from hookline.store.base import Database
from hookline.store.rows import from_row
from hookline.store.tables import account_credentials, accounts, api_keys


def _scopes(text: str) -> frozenset[Scope]:
    return frozenset(Scope(s) for s in text.split(",") if s)


class AccountStore:
    """Use cases: create, list and revoke API keys (creating the account and its callback
    credentials with its first key), authenticate a key, read and rotate an environment's
    callback credentials, list an account's teammates."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def any_exists(self) -> bool:
        async with self._db.read() as conn:
            return (await conn.scalar(sa.select(sa.func.count()).select_from(accounts)) or 0) > 0

    async def create_key(
        self,
        *,
        account: str,
        environment: Environment,
        scopes: Iterable[Scope],
        email: str | None = None,
    ) -> str:
        """Create a key (and its account, if new); the key itself is returned once, never stored."""
        account = account.strip()
        if not account:
            raise Invalid("Account name must not be empty")
        scope_set = frozenset(scopes)
        if not scope_set:
            raise Invalid("A key needs at least one scope")
        key, key_id = new_api_key(environment, self._db.random_bytes)
        now = self._db.clock()
        async with self._db.write() as conn:
            account_id = await conn.scalar(
                sa.select(accounts.c.id).where(accounts.c.name == account)
            )
            if account_id is None:
                account_id = await conn.scalar(
                    sa.insert(accounts)
                    .values(name=account, created_at=now)
                    .returning(accounts.c.id)
                )
                # Each environment signs its callbacks with credentials of its own.
                await conn.execute(
                    sa.insert(account_credentials),
                    [
                        {
                            "account_id": account_id,
                            "environment": env.value,
                            "callback_auth_key": new_callback_auth_key(self._db.random_bytes),
                            "webhook_secret": new_secret(self._db.random_bytes),
                        }
                        for env in Environment
                    ],
                )
            await conn.execute(
                sa.insert(api_keys).values(
                    id=key_id,
                    account_id=account_id,
                    environment=environment.value,
                    key_hash=hash_api_key(key),
                    scopes=",".join(sorted(scope_set)),
                    owner=email or f"{account}@hookline.local",
                    created_at=now,
                )
            )
        return key

    async def list_keys(self, account: str | None = None) -> list[ApiKey]:
        query = (
            sa.select(api_keys, accounts.c.name.label("account_name"))
            .join(accounts, accounts.c.id == api_keys.c.account_id)
            .order_by(accounts.c.name, api_keys.c.created_at)
        )
        if account is not None:
            query = query.where(accounts.c.name == account)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            ApiKey(
                id=row["id"],
                account_name=row["account_name"],
                environment=Environment(row["environment"]),
                scopes=_scopes(row["scopes"]),
                email=row["owner"],
                created_at=row["created_at"],
                revoked_at=row["revoked_at"],
            )
            for row in rows
        ]

    async def revoke_key(self, key_id: str) -> None:
        """Revoke a key by its public id (a whole key is accepted too)."""
        parsed = parse_api_key(key_id)
        if parsed is not None:
            key_id = parsed.key_id
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self._db.clock())
            )
        if result.rowcount == 0:
            raise NotFound(f"No active key with id {key_id!r}")

    async def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key, or None."""
        parsed = parse_api_key(key)
        if parsed is None:
            return None
        query = (
            sa.select(
                api_keys.c.key_hash,
                api_keys.c.scopes,
                api_keys.c.owner,
                api_keys.c.revoked_at,
                api_keys.c.environment,
                accounts.c.id.label("account_id"),
                accounts.c.name.label("account_name"),
            )
            .join(accounts, accounts.c.id == api_keys.c.account_id)
            .where(api_keys.c.id == parsed.key_id)
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None or row["revoked_at"] is not None or not key_matches(key, row["key_hash"]):
            return None
        return Principal(
            key_id=parsed.key_id,
            account_id=row["account_id"],
            account_name=row["account_name"],
            environment=Environment(row["environment"]),
            scopes=_scopes(row["scopes"]),
            email=row["owner"],
        )

    async def credentials(self, account: str | int, environment: Environment) -> AccountCredentials:
        """One environment's callback auth key and webhook secrets (account by name or id)."""
        found = await self._credentials(account, environment)
        return found[0]

    async def all_credentials(self, account: str | int) -> list[AccountCredentials]:
        """The callback credentials of every environment of the account, live first."""
        return await self._credentials(account, None)

    async def _credentials(
        self, account: str | int, environment: Environment | None
    ) -> list[AccountCredentials]:
        where = accounts.c.name == account if isinstance(account, str) else accounts.c.id == account
        c = account_credentials.c
        query = (
            sa.select(accounts.c.name, account_credentials)
            .join(account_credentials, c.account_id == accounts.c.id)
            .where(where)
            .order_by(c.environment)
        )
        if environment is not None:
            query = query.where(c.environment == environment.value)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        if not rows:
            raise NotFound(f"No account {account!r}")
        return [_credentials(dict(row)) for row in rows]

    async def rotate_webhook_secret(
        self, account_id: int, environment: Environment, *, grace_s: float
    ) -> AccountCredentials:
        """A new secret signs the environment's callbacks from now on; the old one also
        signs for `grace_s` seconds. The other environment's secret is untouched."""
        now = self._db.clock()
        c = account_credentials.c
        async with self._db.write() as conn:
            row = (
                (
                    await conn.execute(
                        sa.update(account_credentials)
                        .where(c.account_id == account_id, c.environment == environment.value)
                        .values(
                            previous_webhook_secret=c.webhook_secret,
                            previous_secret_expires_at=now + timedelta(seconds=grace_s),
                            webhook_secret=new_secret(self._db.random_bytes),
                        )
                        .returning(*account_credentials.c)
                    )
                )
                .mappings()
                .first()
            )
            name = await conn.scalar(sa.select(accounts.c.name).where(accounts.c.id == account_id))
        if row is None or name is None:
            raise NotFound(f"No account {account_id}")
        return _credentials({**row, "name": name})

    async def teammates(self, account_id: int) -> list[Teammate]:
        """The account's members (the e-mails of its active keys) and their roles."""
        query = sa.select(api_keys.c.owner, api_keys.c.scopes).where(
            api_keys.c.account_id == account_id, api_keys.c.revoked_at.is_(None)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        scopes_by_email: dict[str, set[Scope]] = {}
        for email, scopes in rows:
            scopes_by_email.setdefault(email, set()).update(_scopes(scopes))
        return [
            Teammate(email=email, role=_role(scopes))
            for email, scopes in sorted(scopes_by_email.items())
        ]


def _credentials(row: Mapping[str, Any]) -> AccountCredentials:
    return from_row(
        AccountCredentials,
        row,
        account=row["name"],
        environment=Environment(row["environment"]),
    )


def _role(scopes: set[Scope]) -> str:
    """Scale's team roles, from the scopes a member's keys carry."""
    if Scope.ADMIN in scopes:
        return "admin"
    if scopes <= {Scope.WORK}:
        return "labeler"
    if Scope.AUDIT in scopes:
        return "manager"
    return "member"
