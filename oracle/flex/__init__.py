"""The oracle's side of flexibility (docs/flexibility.md): the decision on an event, its dispatch among members,
flexibility rewards, and the community's OpenADR 2.0b VEN (`openleadr`)."""
