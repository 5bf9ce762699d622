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
    }
  ]
}
