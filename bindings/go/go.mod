module github.com/httpqq/httpqq-go

go 1.19
