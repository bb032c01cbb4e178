"""Online learning inside a conversation: what this user's likes and dislikes
teach the ranker before any retraining.

Two learners, both tiny and persisted as versioned JSON:

* `RocchioProfile` moves the request vector towards liked items and away from
  disliked ones (Rocchio 1971): q' = α·q + β·mean(liked) − γ·mean(disliked).
  The dense channel then recalls around what the user actually liked, not only
  around what they typed.
* `FusionBandit` is Thompson sampling over a few "arms", each a way of scaling
  the fusion weights (trust the text, trust neighbours of liked items, trust
  collaborative signals, trust popularity). Each recommendation turn plays one
  arm; a like or click on what it showed is a success, a dislike or silence a
  failure. `exploration` is a temperature on the Beta posteriors: 1 is plain
  Thompson sampling, smaller exploits sooner, 0 is greedy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ONLINE_VERSION = 1

ARMS: dict[str, dict[str, float]] = {
    "balanced": {},
    "text": {"semantic": 2.0, "facet_match": 1.5},
    "neighbours": {"content": 2.0, "co_interaction": 2.0},
    "collaborative": {"cf": 2.0, "sequence": 2.0},
    "popular": {"popularity": 2.0, "rating": 2.0},
}


@dataclass
class RocchioProfile:
    alpha: float = 1.0
    beta: float = 0.8
    gamma: float = 0.4
    liked: list[str] = field(default_factory=list)
    disliked: list[str] = field(default_factory=list)

    def feedback(self, item_id: str, positive: bool) -> None:
        mine, other = (self.liked, self.disliked) if positive else (self.disliked, self.liked)
        if item_id in other:
            other.remove(item_id)  # the latest word on an item wins
        if item_id not in mine:
            mine.append(item_id)

    def apply(
        self, query_vector: np.ndarray | None, vectors: np.ndarray, pos: dict[str, int]
    ) -> np.ndarray | None:
        if not any(i in pos for i in (*self.liked, *self.disliked)):
            return query_vector
        v = self._unnormalised(query_vector, vectors, pos)
        norm = np.linalg.norm(v)
        return v / norm if norm > 0 else query_vector

    def split(
        self,
        query_vector: np.ndarray | None,
        vectors: np.ndarray,
        pos: dict[str, int],
        items: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """For item vectors `items`, their cosine to the moved vector `apply` returns,
        as two parts that add up to it: what the request gives (α·q) and what the
        feedback gives (β·liked − γ·disliked). Explanations say "because you liked X"
        only as far as the second part carries an item."""
        n = len(items)
        plain = items @ query_vector if query_vector is not None else np.zeros(n)
        if not any(i in pos for i in (*self.liked, *self.disliked)):
            return plain, np.zeros(n)  # no feedback yet: all of it is the request
        v = self._unnormalised(query_vector, vectors, pos)
        norm = float(np.linalg.norm(v))
        if norm == 0:
            return plain, np.zeros(n)
        request = self.alpha * plain / norm
        return request, items @ v / norm - request

    def _unnormalised(
        self, query_vector: np.ndarray | None, vectors: np.ndarray, pos: dict[str, int]
    ) -> np.ndarray:
        liked = [pos[i] for i in self.liked if i in pos]
        disliked = [pos[i] for i in self.disliked if i in pos]
        v = np.zeros(vectors.shape[1], dtype=np.float32)
        if query_vector is not None:
            v += self.alpha * query_vector
        if liked:
            v += self.beta * vectors[liked].mean(axis=0)
        if disliked:
            v -= self.gamma * vectors[disliked].mean(axis=0)
        return v

    def to_dict(self) -> dict:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "gamma": self.gamma,
            "liked": list(self.liked),
            "disliked": list(self.disliked),
        }


@dataclass
class FusionBandit:
    exploration: float = 1.0
    wins: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ARMS, 0.0))
    losses: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ARMS, 0.0))

    def choose(self, rng: np.random.Generator) -> str:
        names = list(ARMS)
        a = np.array([self.wins.get(n, 0.0) for n in names])
        b = np.array([self.losses.get(n, 0.0) for n in names])
        if self.exploration <= 0:
            mean = (1 + a) / (2 + a + b)
            return names[int(np.argmax(mean))]
        t = self.exploration
        draws = rng.beta(1 + a / t, 1 + b / t)
        return names[int(np.argmax(draws))]

    def update(self, arm: str, reward: float) -> None:
        """reward in [0, 1]: the share of shown items the user liked or clicked."""
        if arm not in ARMS:
            return
        self.wins[arm] = self.wins.get(arm, 0.0) + reward
        self.losses[arm] = self.losses.get(arm, 0.0) + (1.0 - reward)

    @staticmethod
    def scale(arm: str) -> dict[str, float]:
        return ARMS.get(arm, {})

    def to_dict(self) -> dict:
        return {"exploration": self.exploration, "wins": self.wins, "losses": self.losses}


@dataclass
class OnlineState:
    """What is persisted per user (or per session): versioned, so an older
    snapshot is dropped rather than misread."""

    profile: RocchioProfile = field(default_factory=RocchioProfile)
    bandit: FusionBandit = field(default_factory=FusionBandit)
    last_arm: str | None = None
    version: int = ONLINE_VERSION

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "profile": self.profile.to_dict(),
            "bandit": self.bandit.to_dict(),
            "last_arm": self.last_arm,
        }

    @classmethod
    def from_dict(cls, data: dict | None, exploration: float = 1.0) -> OnlineState:
        if not data or data.get("version") != ONLINE_VERSION:
            return cls(bandit=FusionBandit(exploration=exploration))
        bandit = data.get("bandit", {})
        return cls(
            profile=RocchioProfile(**data.get("profile", {})),
            bandit=FusionBandit(
                exploration=exploration,
                wins={**dict.fromkeys(ARMS, 0.0), **bandit.get("wins", {})},
                losses={**dict.fromkeys(ARMS, 0.0), **bandit.get("losses", {})},
            ),
            last_arm=data.get("last_arm"),
        )
