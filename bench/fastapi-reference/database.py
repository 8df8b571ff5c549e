"""In-memory "database": a dict of username -> user record, as the plan says."""

fake_users_db: dict[str, dict] = {}


def get_user(username: str) -> dict | None:
    return fake_users_db.get(username)


def create_user(username: str, email: str, hashed_password: str) -> dict:
    user = {
        "username": username,
        "email": email,
        "hashed_password": hashed_password,
        "image_url": None,
    }
    fake_users_db[username] = user
    return user
