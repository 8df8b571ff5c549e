"""Reference implementation of the planned FastAPI auth service (benchmark baseline).

Run: uvicorn main:app --host 127.0.0.1 --port 8001
"""

from datetime import timedelta

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

import auth
import database
from schemas import Token, User, UserCreate

app = FastAPI(title="FastAPI reference")


@app.post("/register", response_model=User, status_code=status.HTTP_201_CREATED)
def register(user: UserCreate):
    if database.get_user(user.username):
        raise HTTPException(status_code=400, detail="Username already registered")
    hashed = auth.get_password_hash(user.password)
    return database.create_user(user.username, user.email, hashed)


@app.post("/login", response_model=Token)
def login(form_data: OAuth2PasswordRequestForm = Depends()):
    user = auth.authenticate_user(form_data.username, form_data.password)
    if not user:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    access_token = auth.create_access_token(
        data={"sub": user["username"]},
        expires_delta=timedelta(minutes=auth.ACCESS_TOKEN_EXPIRE_MINUTES),
    )
    return {"access_token": access_token, "token_type": "bearer"}


@app.get("/users/me", response_model=User)
async def read_users_me(current_user: User = Depends(auth.get_current_user)):
    return current_user
