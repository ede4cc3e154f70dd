"""The benchmark peer: a small FastAPI chat service built the way the seed gist describes.

The gist (a note on an `asynccontextmanager`'s lifespan in FastAPI background tasks) keeps chat
sessions in a dict that stands for a cache such as Redis. A request starts an answer and returns
at once; the answer is an async generator of chunks that a background task drains, writing each
chunk to the cache under `chunk:{sid}:{task id}`; the client polls for them. A session is loaded
from the cache and saved back by an async context manager around the request, which has exited
before the background task finishes: the answer reaches the cache only if the generator saves it
itself (the gist's "hack", `PEER_HACK=1`). This is the project's own code, written from that
description so the comparison runs from a clone of Holdfast; it keeps the gist's wire format and
cache layout (tests/bench/peer_prefill.py fills the same keys) and its costs: pydantic models,
a FastAPI dependency for the cache, two sleeps per chunk, one uvicorn worker.

Routes:
    GET /{sid}/{tid}/{prompt}  save the prompt, start the answer in the background: "success"
    GET /{sid}/{tid}/chunks    the chunks cached so far from task id tid on (a JSON list)
    GET /{sid}                 the session with its newest 30 messages
Environment:
    PEER_CHUNK_DELAY  seconds slept before each chunk is produced and again before it is cached
                      (default 0.5, as in the gist)
    PEER_CHUNKS       chunks per answer (default: random 3 to 5, as in the gist)
    PEER_HACK=1       the generator saves the session when the answer is complete
    PEER_QUIET=1      no print on each request, load and save
"""
import asyncio
import os
import random
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional
from uuid import uuid4

from fastapi import BackgroundTasks, Depends, FastAPI, Request
from pydantic import BaseModel, Field

CHUNK_DELAY = float(os.environ.get("PEER_CHUNK_DELAY", "0.5"))
FIXED_CHUNKS = int(os.environ["PEER_CHUNKS"]) if os.environ.get("PEER_CHUNKS") else None
SAVE_IN_GENERATOR = os.environ.get("PEER_HACK") == "1"
VERBOSE = os.environ.get("PEER_QUIET") != "1"
WINDOW = 30  # messages read back when a session is loaded

app = FastAPI()
store: dict = {}  # the "cache": sess:SID -> session fields, msg:SID:I -> text, chunk:SID:T -> text
cache = store  # the name tests/bench/peer_prefill.py fills


def say(*what):
    if VERBOSE:
        print(*what, flush=True)


class Session(BaseModel):
    """A chat session; `history` is cached message by message, the other fields as one record."""

    id: str = Field(default_factory=lambda: uuid4().hex)
    meta: str = "some meta information"
    history: list[str] = []
    total: int = 0  # messages ever appended
    uncached: int = 0  # the newest messages not yet written to the cache

    def append(self, text: str):
        self.history.append(text)
        self.total += 1
        self.uncached += 1

    def fields(self, with_history: bool) -> dict:
        # pydantic 1.10 (Debian 12) names it dict(); 2.x model_dump().
        dump = getattr(self, "model_dump", None) or self.dict
        return dump(exclude=None if with_history else {"history"})

    async def save(self, kv: dict):
        first = self.total - self.uncached
        for index in range(first, self.total):
            kv[f"msg:{self.id}:{index}"] = self.history[index - self.total]
        self.uncached = 0
        kv[f"sess:{self.id}"] = self.fields(with_history=False)
        say("saved:", self)

    @classmethod
    async def load(cls, sid: str, kv: dict) -> "Session":
        record = kv.get(f"sess:{sid}")
        parse = getattr(cls, "model_validate", None) or cls.parse_obj
        session = parse(record)
        start = max(0, session.total - WINDOW)
        session.history.extend(kv.get(f"msg:{session.id}:{i}") for i in range(start, session.total))
        say("loaded:", session)
        return session

    async def ask(self, prompt: str, kv: dict) -> AsyncIterator[str]:
        """Appends the prompt and returns the answer's chunks, produced as they are iterated."""
        self.append(prompt)

        async def answer():
            parts = []
            count = FIXED_CHUNKS if FIXED_CHUNKS is not None else random.randint(3, 5)
            for seq in range(count):
                await asyncio.sleep(CHUNK_DELAY)  # the model's time for one chunk
                part = f"resp{seq}:{random.randbytes(2).hex()};"
                parts.append(part)
                yield part
            self.append("".join(parts))
            if SAVE_IN_GENERATOR:  # the request's context manager has long exited
                await self.save(kv)

        return answer()


async def the_store() -> dict:
    return store


@asynccontextmanager
async def opened(sid: str, kv: dict):
    """The session of `sid` (created when missing), saved back when the block exits."""
    if f"sess:{sid}" in kv:
        session = await Session.load(sid, kv)
    else:
        session = Session(id=sid)
        await session.save(kv)
    yield session
    await session.save(kv)


async def drain(sid: str, first_task: int, chunks: AsyncIterator[str], kv: dict):
    """The background task: each chunk goes to the cache under the next task id."""
    task = first_task
    async for part in chunks:
        await asyncio.sleep(CHUNK_DELAY)  # handing the chunk on (the gist: a websocket)
        kv[f"chunk:{sid}:{task}"] = part
        task += 1


# Declared before the prompt route, which would otherwise take "chunks" as a prompt.
@app.get("/{sid}/{tid}/chunks")
async def read_chunks(sid: str, tid: int, kv: dict = Depends(the_store)):
    found = []
    while (part := kv.get(f"chunk:{sid}:{tid + len(found)}")) is not None:
        found.append(part)
    return found


@app.get("/{sid}/{tid}/{prompt}")
async def start_turn(request: Request, sid: str, tid: int, prompt: str, tasks: BackgroundTasks,
                     kv: dict = Depends(the_store)):
    if VERBOSE:  # request.url builds an object: not on the measured path when quiet
        say("request:", request.url)
    async with opened(sid, kv) as session:
        chunks = await session.ask(f"prompt:{prompt}", kv)
    tasks.add_task(drain, sid, tid, chunks, kv)
    return "success"


@app.get("/{sid}")
async def read_session(request: Request, sid: str, kv: dict = Depends(the_store)):
    if VERBOSE:  # request.url builds an object: not on the measured path when quiet
        say("request:", request.url)
    session: Optional[Session] = await Session.load(sid, kv)
    return session.fields(with_history=True)
