"""Run Kiln's own DatasetFormatter.dump_to_file on a project: the bench's side-by-side figure.

Usage: python3 kiln_dump.py <Kiln's libs/core> <dataset_split.kiln> <split> <format> <strategy> <system message> <out>

Loads the split with Kiln's datamodel (DatasetSplit.load_from_file: the runs are read through its
parent task, as Kiln's app does) and writes the file with Kiln's formatter, timing both. Prints one
JSON line: seconds (load + dump), peak RSS in KiB. Only the standard library, pydantic and Kiln.
"""
import asyncio, importlib.abc, importlib.machinery, json, resource, sys, time, types, typing

core, split_file, split_name, fmt, strategy, system_message, out = sys.argv[1:8]
sys.path.insert(0, core)

# Packages Kiln imports for other features (model calls, MCP, cloud SDKs) that the formatter never
# uses: when one is not installed, a placeholder module whose every name is Stub (below), as
# shared/conformance's oracle did. Installed packages are used as they are.
PLACEHOLDERS = ('anyio', 'openai', 'litellm', 'httpx', 'jq', 'mcp', 'together', 'vertexai', 'google')

class _StubMeta(type):
    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return Stub
    def __getitem__(cls, item):
        return Stub
    def __or__(cls, other):
        return typing.Any
    __ror__ = __or__

class Stub(metaclass=_StubMeta):
    """Any name of a placeholder package: subclassable, callable, subscriptable; Any to pydantic."""
    def __init__(self, *args, **kwargs):
        pass
    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        from pydantic_core import core_schema
        return core_schema.any_schema()

class Placeholder(types.ModuleType):
    __path__: list = []
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return Stub

class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] not in PLACEHOLDERS:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            try:
                spec = finder.find_spec(name, path, target)
            except Exception:
                spec = None
            if spec is not None:
                return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)
    def create_module(self, spec):
        return Placeholder(spec.name)
    def exec_module(self, module):
        pass

sys.meta_path.insert(0, Finder())

from kiln_ai.adapters.fine_tune.dataset_formatter import DatasetFormatter, DatasetFormat
from kiln_ai.datamodel import DatasetSplit
from kiln_ai.datamodel.datamodel_enums import ChatStrategy

started = time.perf_counter()
split = DatasetSplit.load_from_file(split_file)
formatter = DatasetFormatter(split, system_message, None)
result = formatter.dump_to_file(split_name, DatasetFormat(fmt), ChatStrategy(strategy), out)
if asyncio.iscoroutine(result):
    asyncio.run(result)
seconds = time.perf_counter() - started
print(json.dumps({'seconds': seconds, 'peak_rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
