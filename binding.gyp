{
  "targets": [
    {
      "target_name": "sendfile",
      "sources": ["native/sendfile.c"],
      "conditions": [["OS != 'linux'", { "type": "none", "sources!": ["native/sendfile.c"] }]]
    },
    {
      "target_name": "splice",
      "sources": ["native/splice.c"],
      "conditions": [["OS != 'linux'", { "type": "none", "sources!": ["native/splice.c"] }]]
    },
    {
      "target_name": "aligned-memory",
      "sources": ["native/aligned-memory.c"],
      "conditions": [["OS != 'linux'", { "type": "none", "sources!": ["native/aligned-memory.c"] }]]
    }
  ]
}
