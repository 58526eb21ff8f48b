.PHONY: setup build release demo test clean

setup:
	scripts/setup.sh

build:
	swift build

release:
	swift build -c release --product ffcol --static-swift-stdlib

demo:
	scripts/demo.sh

test:
	scripts/test.sh

clean:
	rm -rf .build demo-data
