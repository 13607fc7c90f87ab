"""What runs write for people and jobs: saved plans, validate's problem formats, job
summaries, the List Download upload file; each written whole or not at all. It may
import `plans`, `providers`, `loading`, `runtime` and `schema`, never a command."""
