# Prints az's output of each query in queries.txt on document.json, in json,
# table and tsv, as cases.json: the Azure CLI's own output layer (knack) and
# JMESPath (Python's jmespath), the versions az 2.74 ships. Run it with that
# az's Python; see README.md.
import collections, json, os, sys
import jmespath
from knack.output import format_json, format_table, format_tsv
from knack.util import CommandResultItem

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "document.json")) as f:
    doc = json.load(f, object_pairs_hook=collections.OrderedDict)
cases = []
with open(os.path.join(here, "queries.txt")) as f:
    for q in (line.rstrip("\n") for line in f):
        if not q:
            continue
        # As knack/query.py: compile, then search with OrderedDict.
        res = jmespath.compile(q).search(doc, jmespath.Options(collections.OrderedDict))
        case = {"query": q}
        if res is None:
            case["none"] = True  # knack/cli.py prints nothing for a None result
        else:
            item = CommandResultItem(res, is_query_active=True)
            for name, fmt in (("json", format_json), ("table", format_table), ("tsv", format_tsv)):
                case[name] = fmt(item)
        cases.append(case)
from importlib.metadata import version
out = {"source": "knack %s, jmespath %s (azure-cli %s)" % (version("knack"), jmespath.__version__, version("azure-cli")),
       "cases": cases}
with open(os.path.join(here, "cases.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
