"""Personal data after a PII key rotation (SPEC 7.5, NF-7): old ciphertexts still decrypt, a read
re-encrypts them under the newest key, and lookups by keyed hash keep working."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from sqlalchemy import select

from services.common.context import Caller
from services.common.db import Database
from services.common.pii import PiiKeyring
from services.identity import users
from services.identity.models import User


def key() -> bytes:
    return os.urandom(32)


async def test_rotation_reencrypts_lazily_and_lookup_survives(db_factory):
    k1, k2 = key(), key()
    old = PiiKeyring({"k1": k1})
    new = PiiKeyring({"k1": k1, "k2": k2})
    database = Database(await db_factory.prepared("identity"))
    operator = Caller(subject="op", tenant="110000", roles=frozenset({"provincial_operator"}))
    now = datetime.now(UTC)
    try:
        async with database.session() as session:
            user = await users.create_user(session, old, now, caller=operator, tenant_code="", new=users.NewUser(
                username=f"rot-{os.urandom(4).hex()}", display_name="R", roles=["trainee"], organisation="",
                citizen_id="11010519491231002X", phone="13912345678", email="a@example.com",
                password="rotation-password-1"))
            await session.commit()
            user_id = user.id
        assert old.current_key_id == "k1" and new.current_key_id == "k2"
        async with database.session() as session:
            row = await users.get_user(session, now, caller=operator, user_id=user_id)
            assert new.needs_reencryption(row.citizen_id_enc)
            assert users.personal_view(new, operator, row)["citizen_id"] == "11010519491231002X"
            assert users.reencrypt_stale(new, row)
            await session.commit()
        async with database.session() as session:
            row = await session.get(User, user_id)
            assert all(not new.needs_reencryption(getattr(row, c)) for c, _ in users.PERSONAL_FIELDS)
            assert users.personal_view(new, operator, row) == {
                "citizen_id": "11010519491231002X", "phone": "13912345678", "email": "a@example.com"}
            found = (await session.scalars(select(User).where(
                User.citizen_id_hash == new.lookup_hash("11010519491231002x", context=users.CITIZEN_ID)))).all()
            assert [u.id for u in found] == [user_id]
    finally:
        await database.dispose()
