"""The learning-record store (SPEC TR-3): xAPI statements from the gRPC ingestion stream and
from the gateway's /xapi LRS, in one set of tables; xAPI documents (state and profiles)."""
