"""Starting and watching runs: the runs page and run detail (views), their reads (selectors),
the REST API of runs (api), and the launch service and form (services, forms) that start a
match or generation run. Above runs/ and generation/, which it starts."""
