"""Hand-written content for the example datasets (tuiapp/sample_data), written for this project.

Each generator returns a Task: an instruction, an optional input, a good answer and a worse one (for the
preference and KTO examples), and sometimes a follow-up turn. `make_sample_data.py` lays them out per format.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAMES = ("Maya", "Omar", "Lena", "Kofi", "Priya", "Tomás", "Hana", "Ivan", "Zoe", "Ravi")
SYSTEM_PROMPTS = (
    "You are a helpful assistant.",
    "You are a concise assistant. Answer in one or two sentences.",
    "You are a patient maths tutor who shows the working.",
    "You are a friendly geography quiz host.",
    "You explain code to beginners in plain language.",
)
# (country, capital, continent, a city people often guess instead)
CAPITALS = (
    ("France", "Paris", "Europe", "Lyon"),
    ("Japan", "Tokyo", "Asia", "Osaka"),
    ("Kenya", "Nairobi", "Africa", "Mombasa"),
    ("Canada", "Ottawa", "North America", "Toronto"),
    ("Australia", "Canberra", "Oceania", "Sydney"),
    ("Brazil", "Brasília", "South America", "Rio de Janeiro"),
    ("Egypt", "Cairo", "Africa", "Alexandria"),
    ("India", "New Delhi", "Asia", "Mumbai"),
    ("Norway", "Oslo", "Europe", "Bergen"),
    ("Peru", "Lima", "South America", "Cusco"),
    ("Vietnam", "Hanoi", "Asia", "Ho Chi Minh City"),
    ("Morocco", "Rabat", "Africa", "Casablanca"),
    ("Chile", "Santiago", "South America", "Valparaíso"),
    ("Poland", "Warsaw", "Europe", "Kraków"),
    ("New Zealand", "Wellington", "Oceania", "Auckland"),
    ("Ghana", "Accra", "Africa", "Kumasi"),
    ("Colombia", "Bogotá", "South America", "Medellín"),
    ("Finland", "Helsinki", "Europe", "Tampere"),
    ("South Korea", "Seoul", "Asia", "Busan"),
    ("Mexico", "Mexico City", "North America", "Guadalajara"),
)
CODE = (
    (
        "def square(x):\n    return x * x",
        "It defines a function `square` that returns its argument times itself, so `square(4)` is 16.",
    ),
    (
        "nums = [3, 1, 2]\nnums.sort()",
        "`sort()` orders the list in place, so `nums` becomes `[1, 2, 3]`; it returns `None`.",
    ),
    (
        "words = [w.lower() for w in text.split()]",
        "A list comprehension: it splits `text` on whitespace and lowercases each word.",
    ),
    (
        'with open("notes.txt") as f:\n    lines = f.readlines()',
        "The `with` block opens the file and closes it when the block ends, even after an error; "
        "`readlines()` returns every line as a list of strings.",
    ),
    (
        "counts = {}\nfor ch in s:\n    counts[ch] = counts.get(ch, 0) + 1",
        "It counts each character of `s`: `counts.get(ch, 0)` is the count so far, or 0 the first time.",
    ),
    (
        "total = sum(x for x in values if x > 0)",
        "It adds up only the positive numbers in `values`, without building a list.",
    ),
    (
        "a, b = b, a",
        "It swaps `a` and `b`: the right side builds a tuple first, which is then unpacked into the two names.",
    ),
    (
        'if not items:\n    print("empty")',
        "An empty list counts as false, so the message is printed when `items` is empty.",
    ),
    (
        "squares = {n: n * n for n in range(5)}",
        "A dict comprehension mapping 0 to 4 to their squares: `{0: 0, 1: 1, 2: 4, 3: 9, 4: 16}`.",
    ),
    (
        'name = input("Name: ").strip() or "friend"',
        'It reads a line, trims spaces, and falls back to `"friend"` if nothing was typed.',
    ),
    (
        "for i, item in enumerate(items, start=1):\n    print(i, item)",
        "`enumerate` pairs each item with a counter from 1, printing a numbered list.",
    ),
    ("text[::-1]", 'The slice steps backwards through the string, reversing it: `"abc"[::-1]` is `"cba"`.'),
)
GLOSSARY = (
    (
        "overfitting",
        "a model learning its training examples so closely, noise included, that it does worse on new data",
    ),
    ("learning rate", "the size of each weight update; too high and training diverges, too low and it crawls"),
    ("epoch", "one full pass over the training data"),
    ("batch size", "how many examples are processed together before the weights are updated"),
    ("tokenizer", "the part that splits text into tokens, the units a language model reads and writes"),
    ("LoRA", "fine-tuning that freezes the original weights and trains small low-rank matrices added to some layers"),
    ("gradient", "how fast, and in which direction, the loss changes as each weight changes"),
    ("validation set", "data kept out of training and used to check how well the model does on unseen examples"),
    (
        "quantization",
        "storing numbers with fewer bits, such as 4-bit weights, to save memory at a small cost in precision",
    ),
    ("context length", "the most tokens a model can take into account at once"),
    ("checkpoint", "a saved copy of the weights, and often the optimizer state, at one point during training"),
    ("prompt", "the text given to a model as input, which it continues or answers"),
)
REWRITES = (
    (
        "Rewrite the sentence in a formal tone.",
        "hey, can u send me the report by tmrw?",
        "Could you please send me the report by tomorrow?",
    ),
    (
        "Correct the grammar.",
        "She don't like going to the meetings on monday.",
        "She doesn't like going to the meetings on Monday.",
    ),
    (
        "Shorten this sentence without losing its meaning.",
        "Due to the fact that the train was delayed, we arrived at the venue at a later time than we had planned.",
        "Because the train was delayed, we arrived later than planned.",
    ),
    (
        "Turn these notes into a bulleted list.",
        "buy milk, call the plumber, return library books",
        "- Buy milk\n- Call the plumber\n- Return library books",
    ),
    (
        "Summarise the paragraph in one sentence.",
        "The town council met on Tuesday to discuss the new bike lanes. After two hours of debate, members voted "
        "seven to two to build lanes on Main Street next spring, with a review after one year.",
        "The council voted 7–2 to build bike lanes on Main Street next spring and review them after a year.",
    ),
    (
        "Say it in plain English.",
        "The aforementioned individual has been apprised of the circumstances.",
        "That person has been told what happened.",
    ),
    ("Make this email subject line clearer.", "stuff for thursday", "Agenda and slides for Thursday's meeting"),
    (
        "Rewrite the sentence in the passive voice.",
        "The committee approved the budget.",
        "The budget was approved by the committee.",
    ),
    (
        "Replace the jargon with plain words.",
        "Let's circle back and leverage our synergies going forward.",
        "Let's talk again later and work together better from now on.",
    ),
    ("Fix the punctuation.", "its a nice day lets go for a walk", "It's a nice day. Let's go for a walk."),
)
REVIEWS = (
    ("The battery lasts all day and the screen is bright even outdoors.", "positive"),
    ("It stopped working after a week and support never replied.", "negative"),
    ("Does what it says. Nothing special, nothing wrong.", "neutral"),
    ("The soup was cold and the waiter ignored us for twenty minutes.", "negative"),
    ("Lovely little café with friendly staff and the best croissants in town.", "positive"),
    ("The instructions were clear and assembly took ten minutes.", "positive"),
    ("Too loud to use at night, and the fan rattles.", "negative"),
    ("An average hotel: clean rooms, a small breakfast, a fair price.", "neutral"),
    ("I've worn these boots through two winters and they're still waterproof.", "positive"),
    ("The app logs me out every time I switch screens.", "negative"),
)


@dataclass(frozen=True)
class Task:
    """One example: what is asked, the optional input, a good answer, a worse one, maybe a follow-up turn."""

    kind: str
    instruction: str
    input: str
    output: str
    bad_output: str
    follow_up: tuple[str, str] | None = None


def word_problem(rng: random.Random) -> tuple[str, int, str]:
    """A small arithmetic word problem: (question, numeric answer, worked solution)."""
    name = rng.choice(NAMES)
    a, b = rng.randint(3, 12), rng.randint(4, 15)
    match rng.randrange(8):
        case 0:
            c = rng.randint(1, a * b // 2)
            question = f"{name} buys {a} packs of {b} pencils and gives {c} to a friend. How many pencils are left?"
            return question, a * b - c, f"{a} × {b} = {a * b} pencils; {a * b} − {c} = {a * b - c}."
        case 1:
            c = rng.randint(1, 20)
            question = f"A bus has {a + b} passengers. At a stop {b} get off and {c} get on. How many are on it now?"
            return question, a + c, f"{a + b} − {b} = {a}; {a} + {c} = {a + c}."
        case 2:
            left = rng.randint(0, b - 1)
            question = (
                f"A baker makes {a * b + left} muffins and packs them in boxes of {b}. How many boxes can be filled?"
            )
            return (
                question,
                a,
                f"{a * b + left} ÷ {b} = {a} full boxes" + (f", with {left} left over." if left else "."),
            )
        case 3:
            question = f"{name} reads {b} pages a day. How many pages does {name} read in {a} weeks?"
            return question, b * a * 7, f"{a} weeks = {a * 7} days; {a * 7} × {b} = {a * 7 * b} pages."
        case 4:
            question = f"A rectangle is {a} cm long and {b} cm wide. What is its area in square centimetres?"
            return question, a * b, f"Area = length × width = {a} × {b} = {a * b} cm²."
        case 5:
            price, off = 20 * a, rng.choice((10, 25, 50))
            sale = price * (100 - off) // 100
            question = f"A jacket costs ${price} and is {off}% off. What is the sale price in dollars?"
            return question, sale, f"{off}% of {price} is {price - sale}; {price} − {price - sale} = {sale}."
        case 6:
            speed = 10 * b
            question = f"A train travels at {speed} km/h for {a} hours. How many kilometres does it cover?"
            return question, speed * a, f"Distance = speed × time = {speed} × {a} = {speed * a} km."
        case _:
            drop = rng.randint(5, 25)
            question = f"It was {b} °C at noon and {drop} degrees colder at midnight. How warm was it then?"
            return question, b - drop, f"{b} − {drop} = {b - drop} °C."


def _maths(rng: random.Random) -> Task:
    question, answer, working = word_problem(rng)
    wrong = answer + rng.choice((-3, -1, 1, 2, 10))
    return Task("maths", question, "", f"{working} The answer is {answer}.", f"The answer is {wrong}.")


def _conversion(rng: random.Random) -> Task:
    match rng.randrange(4):
        case 0:
            km = rng.choice((5, 10, 12, 21, 42, 100))
            good, bad = (
                f"{km} km is about {km * 0.621371:.1f} miles (1 km ≈ 0.621 miles).",
                f"{km} km is {km * 1.609:.1f} miles.",
            )
            return Task(
                "convert",
                f"Convert {km} km to miles.",
                "",
                good,
                bad,
                (f"And {km * 2} km?", f"About {km * 2 * 0.621371:.1f} miles."),
            )
        case 1:
            c = rng.choice((-10, 0, 18, 25, 37, 100))
            good = f"{c} °C is {c * 9 / 5 + 32:g} °F: multiply by 9/5, then add 32."
            return Task("convert", f"What is {c} °C in Fahrenheit?", "", good, f"{c} °C is {c + 32} °F.")
        case 2:
            kg = rng.choice((2, 5, 12, 70))
            good = f"{kg} kg is about {kg * 2.20462:.1f} lb (1 kg ≈ 2.205 lb)."
            return Task("convert", f"How many pounds is {kg} kg?", "", good, f"{kg} kg is {kg / 2.2:.1f} lb.")
        case _:
            hours = rng.choice((1.5, 2, 3.25, 8))
            good = f"{hours:g} hours is {hours * 60:g} minutes."
            return Task(
                "convert",
                f"How many minutes are in {hours:g} hours?",
                "",
                good,
                f"{hours:g} hours is {hours * 100:g} minutes.",
            )


def _capital(rng: random.Random) -> Task:
    country, capital, continent, guess = rng.choice(CAPITALS)
    follow = ("Which continent is it on?", f"{country} is in {continent}.")
    return Task(
        "capital",
        f"What is the capital of {country}?",
        "",
        f"The capital of {country} is {capital}.",
        f"It's {guess}.",
        follow,
    )


def _code(rng: random.Random) -> Task:
    snippet, explanation = rng.choice(CODE)
    return Task(
        "code",
        "Explain what this Python code does.",
        snippet,
        explanation,
        "It's Python code that does something with variables.",
    )


def _glossary(rng: random.Random) -> Task:
    term, meaning = rng.choice(GLOSSARY)
    return Task(
        "term",
        f"What does '{term}' mean in machine learning?",
        "",
        f"'{term[0].upper() + term[1:]}' means {meaning}.",
        "I'm not sure, try searching online.",
    )


def _rewrite(rng: random.Random) -> Task:
    instruction, text, rewritten = rng.choice(REWRITES)
    return Task("rewrite", instruction, text, rewritten, text)


def _review(rng: random.Random) -> Task:
    text, label = rng.choice(REVIEWS)
    wrong = rng.choice([x for x in ("positive", "negative", "neutral") if x != label])
    return Task("sentiment", "Is this review positive, negative or neutral?", text, label, wrong)


GENERATORS = (_maths, _maths, _conversion, _capital, _code, _glossary, _rewrite, _review)


def tasks(seed: int, count: int) -> list[Task]:
    """`count` tasks of mixed kinds, the same list for the same seed, without exact repeats."""
    rng, seen, out = random.Random(seed), set(), []
    for attempt in range(count * 50):
        task = GENERATORS[attempt % len(GENERATORS)](rng)
        if (task.instruction, task.input) not in seen:
            seen.add((task.instruction, task.input))
            out.append(task)
            if len(out) == count:
                return out
    raise ValueError(f"only {len(out)} different tasks for {count} rows: write more content")
