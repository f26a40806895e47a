module httpqq

go 1.19
