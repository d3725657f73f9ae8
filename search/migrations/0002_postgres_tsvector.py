"""PostgreSQL only: the candidate filter, the bigram tokens as a stored tsvector with a GIN index.

The tokens are already what we want to look up, so they become lexemes as they are
(array_to_tsvector: no text-search parser, no dependence on the database's locale). Stored,
not an expression index: rows the planner checks one by one would otherwise rebuild the
tsvector each time (measured: 5x slower). Django never reads or writes the column;
search.query.TokensMatch refers to it. SQLite does without it.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE search_searchentry ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (array_to_tsvector(string_to_array(btrim(grams), ' '))) STORED",
    "CREATE INDEX search_entry_tsv ON search_searchentry USING gin (tsv)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_entry_tsv",
    "ALTER TABLE search_searchentry DROP COLUMN IF EXISTS tsv",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
