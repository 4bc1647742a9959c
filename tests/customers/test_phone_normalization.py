from hypothesis import given
from hypothesis import strategies as st

from customers.services import phone_normalize

AREA = st.sampled_from(["512", "737", "210", "713"])
EXCHANGE = st.integers(min_value=200, max_value=989).filter(lambda n: n not in (555, 911) and n % 100 != 11)
LINE = st.integers(min_value=0, max_value=9999)
LAYOUTS = st.sampled_from(
    [
        "({a}) {e}-{l}",
        "{a}-{e}-{l}",
        "{a}.{e}.{l}",
        "{a}{e}{l}",
        "+1 {a} {e} {l}",
        "1-{a}-{e}-{l}",
        " {a} {e} {l} ",
    ]
)


@given(area=AREA, exchange=EXCHANGE, line=LINE, layout=LAYOUTS)
def test_every_way_of_typing_a_number_gives_the_same_e164(area, exchange, line, layout):
    typed = layout.format(a=area, e=exchange, l=f"{line:04d}")
    assert phone_normalize(typed) == f"+1{area}{exchange}{line:04d}"
