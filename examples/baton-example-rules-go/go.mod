module example.com/baton-example

go 1.26
